/**
 * Erasure on PostgreSQL after events whose strings PostgreSQL cannot turn into text: a NUL, or an
 * unpaired surrogate (the tracker's sanitiser cuts a long string at 1,000 UTF-16 units, which can
 * split an emoji). Erasure reads the stored JSON's fields as text (`->>`), which fails on any such
 * string of the row: one visitor's event made every erasure of every visitor fail with a 500.
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

describe.runIf(postgresAvailable())('erasure on PostgreSQL', () => {
  let server: PostgresServer;
  let relay: RelayProcess;
  let hook: Mock;
  let database: string;
  beforeAll(async () => {
    await ensureBuilt();
    server = await startPostgres();
    database = await createDatabase(server, 'erase_text');
    hook = await webhookMock();
    const config = writeConfig(tempDir(), {
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

  const erase = (who: Record<string, string>) =>
    fetch(relay.url + '/erase', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(who),
    });
  const visitors = async () => {
    const client = new pg.Client({ connectionString: database });
    await client.connect();
    try {
      const { rows } = await client.query(
        `SELECT data::jsonb->'event'->>'anonymousId' AS id FROM events ORDER BY 1`,
      );
      return rows.map((r: { id: string }) => r.id);
    } finally {
      await client.end();
    }
  };

  it('still erases every visitor, those with such events included', async () => {
    // 999 letters then an emoji: cut at 1,000 units, as the tracker's sanitiser does, it ends in half of it.
    const cut = ('x'.repeat(999) + '😀').slice(0, 1000);
    const events = [
      pageview({ anonymousId: 'nul-title', title: 'Sale\u0000' }),
      pageview({ anonymousId: 'cut-emoji', properties: { note: cut } }),
      pageview({ anonymousId: 'nul-key', properties: { 'k\u0000': 1 } }),
      pageview({ anonymousId: 'someone' }),
      pageview({ anonymousId: 'another' }),
    ];
    const response = await post(relay.url, { v: 1, site: 'shop', sentAt: Date.now(), events });
    expect(await response.json()).toEqual({ ok: true, accepted: 5, duplicates: 0 });

    const answer = await erase({ anonymousId: 'someone' });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ erased: { events: 1 } });
    for (const anonymousId of ['nul-title', 'cut-emoji', 'nul-key'])
      expect((await erase({ anonymousId })).status, anonymousId).toBe(200);
    expect(await visitors()).toEqual(['another']);
  });
});
