/**
 * Ids PostgreSQL cannot keep as sent, against the relay CLI on a real PostgreSQL: a NUL (text
 * refuses it) and an unpaired surrogate (written as U+FFFD, so the id read back is not the one sent).
 * Each is refused alone with a 4xx reason; the good events of its body, and the bodies of other
 * visitors arriving in the same turn (one grouped insert), are stored.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  ensureBuilt,
  pageview,
  post,
  startCli,
  tempDir,
  writeConfig,
  type RelayProcess,
} from './helpers';
import { webhookMock, type Mock } from './mocks';
import {
  createDatabase,
  postgresAvailable,
  startPostgres,
  type PostgresServer,
} from './postgres-server';

// Child processes and a database server on a shared, busy machine: generous bounds, each finite.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 180_000 });

describe.runIf(postgresAvailable())('ids PostgreSQL cannot keep as sent', () => {
  let server: PostgresServer;
  let relay: RelayProcess;
  let hook: Mock;
  let database: string;
  beforeAll(async () => {
    await ensureBuilt();
    server = await startPostgres();
    database = await createDatabase(server, 'hostile_ids');
    hook = await webhookMock();
    const dir = tempDir();
    const config = writeConfig(dir, {
      delivery: { pollMs: 50, backoffBaseMs: 20, backoffMaxMs: 100, timeoutMs: 2000 },
      sites: {
        shop: {
          origins: ['https://shop.example'],
          destinations: [{ type: 'webhook', url: hook.url + '/hook' }],
        },
      },
    });
    relay = await startCli(config, database);
  });
  afterAll(async () => {
    await relay?.stop();
    await hook?.close();
    server?.destroy();
  });

  const stored = async (ids: string[]) => {
    const client = new pg.Client({ connectionString: database });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT id FROM events WHERE id = ANY($1)', [ids]);
      return rows.map((r: { id: string }) => r.id).sort();
    } finally {
      await client.end();
    }
  };
  const body = (events: unknown[]) => ({ v: 1, site: 'shop', sentAt: Date.now(), events });

  it('refuses a NUL id alone with its reason; the good event beside it is stored (not a 503)', async () => {
    const good = pageview();
    const response = await post(relay.url, body([good, pageview({ id: 'nul\u0000id' })]));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      ok: true,
      accepted: 1,
      rejected: [{ index: 1, field: 'id', reason: expect.stringContaining('NUL') }],
    });
    expect(await stored([good.id])).toEqual([good.id]);
  });

  it('answers other visitors of the same turn 200 while one sends an unpaired surrogate id', async () => {
    const statuses: Record<string, number> = {};
    const goods: string[] = [];
    for (let round = 0; round < 3; round++) {
      const bodies = Array.from({ length: 30 }, (_, i) => {
        if (i == 15) return ['bad', body([pageview({ id: `half-${round}-\ud800` })])] as const;
        const event = pageview({ anonymousId: `visitor-${i}` });
        goods.push(event.id);
        return ['good', body([event])] as const;
      });
      const answers = await Promise.all(
        bodies.map(([kind, b]) => post(relay.url, b).then((r) => `${kind} ${r.status}`)),
      );
      for (const answer of answers) statuses[answer] = (statuses[answer] ?? 0) + 1;
    }
    expect(statuses).toEqual({ 'good 200': 87, 'bad 400': 3 });
    expect((await stored(goods)).length).toBe(goods.length);
    expect((await fetch(relay.url + '/health')).status).toBe(200);
  });
});
