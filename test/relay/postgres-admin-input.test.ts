/**
 * Admin routes on PostgreSQL with input it cannot take as is: a NUL in a destination name or a
 * visitor's id (PostgreSQL text refuses it) and a negative `limit=`. Each is answered, not a 500.
 */
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
import {
  createDatabase,
  postgresAvailable,
  startPostgres,
  type PostgresServer,
} from './postgres-server';

// Child processes and a database server on a shared, busy machine: generous bounds, each finite.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 180_000 });

describe.runIf(postgresAvailable())('admin input on PostgreSQL', () => {
  let server: PostgresServer;
  let relay: RelayProcess;
  beforeAll(async () => {
    await ensureBuilt();
    server = await startPostgres();
    await createDatabase(server, 'admin_input');
    const config = writeConfig(tempDir(), {
      sites: {
        shop: {
          origins: ['https://shop.example'],
          // Nothing listens there: deliveries fail, which these tests do not wait for.
          destinations: [{ type: 'webhook', url: 'http://127.0.0.1:9/hook' }],
        },
      },
    });
    relay = await startCli(config, server.url.replace(/\/postgres$/, '/admin_input'));
  });
  afterAll(async () => {
    await relay?.stop();
    server?.destroy();
  });

  const postJson = (path: string, body: unknown) =>
    fetch(relay.url + path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('lists dead letters for any limit= and destination=', async () => {
    for (const query of ['limit=-1', 'limit=0.5', 'limit=1e400', 'destination=%00', 'limit=2']) {
      const response = await fetch(`${relay.url}/dead-letters?${query}`);
      expect(response.status, query).toBe(200);
      expect(await response.json(), query).toEqual({ deadLetters: [] });
    }
    const requeued = await postJson('/dead-letters/requeue', { destination: 'shop/\u0000' });
    expect([requeued.status, await requeued.json()]).toEqual([200, { requeued: 0 }]);
  });

  it('erases a user whose id holds a NUL, with their events', async () => {
    const events = [
      pageview({ anonymousId: 'visitor-1' }),
      { ...pageview({ anonymousId: 'visitor-1' }), type: 'identify', userId: 'user\u0000x' },
      pageview({ anonymousId: 'visitor-2' }),
    ];
    const stored = await post(relay.url, { v: 1, site: 'shop', sentAt: Date.now(), events });
    expect(await stored.json()).toEqual({ ok: true, accepted: 3, duplicates: 0 });
    const response = await postJson('/erase', { userId: 'user\u0000x' });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ erased: { events: 2 } });
  });
});
