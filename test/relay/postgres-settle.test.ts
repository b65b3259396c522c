/**
 * PostgreSQL settles: one statement at a time per store. Settles that come while one is in flight
 * wait in the relay and go together in the next statement, instead of each holding a pool connection
 * while it waits for the first one's row locks.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/relay/postgres';
import type { Store, StoredEvent } from '../../src/relay/store';
import { postgresAvailable, startPostgres, type PostgresServer } from './postgres-server';

const stored = (id: string): StoredEvent => ({
  site: 'shop',
  receivedAt: 1_000,
  time: 1_000,
  skewMs: 0,
  bot: false,
  event: { type: 'event', name: 'x', id, anonymousId: 'a1' } as StoredEvent['event'],
});

const turn = () => new Promise((done) => setImmediate(done));

describe.runIf(postgresAvailable())('PostgreSQL settles', () => {
  let server: PostgresServer;
  let url: string;
  let store: Store;
  const sql = async (text: string, values: unknown[] = []) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(text, values)).rows;
    } finally {
      await client.end();
    }
  };
  beforeAll(async () => {
    server = await startPostgres();
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query('CREATE DATABASE settles');
    await admin.end();
    url = server.url.replace(/\/postgres$/, '/settles');
    store = await openPostgresStore(url, { poolSize: 4 });
  });
  afterAll(async () => {
    await store?.close();
    server?.destroy();
  });

  it('sends the settles that come while one is in flight in one statement after it', async () => {
    const route = () => ['shop/a'];
    const { leased } = await store.insertEvents(['s1', 's2', 's3', 's4'].map(stored), route, {
      leaseUntil: 9_000,
    });
    const id = (event: string) => leased!.find((d) => d.stored.event.id == event)!.id;
    // Another session holds the destination's log row, so the first settle waits in PostgreSQL.
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query(
      "INSERT INTO destination_log (destination, last_delivered_at) VALUES ('shop/a', 1) " +
        'ON CONFLICT (destination) DO UPDATE SET last_delivered_at = 1',
    );
    const first = store.markDelivered([id('s1')], 2_000);
    await turn();
    await turn();
    const second = store.markDelivered([id('s2')], 2_100);
    await turn();
    const third = store.markDelivered([id('s3'), id('s4')], 2_200);
    await new Promise((done) => setTimeout(done, 200));
    const settling = await sql(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'tracklet-relay' " +
        "AND state = 'active' AND query LIKE '%UPDATE deliveries d SET status%'",
    );
    expect(settling).toEqual([{ n: 1 }]);
    await holder.query('COMMIT');
    await holder.end();
    await Promise.all([first, second, third]);
    const rows = await sql(
      "SELECT event_id, xmin::text AS tx, updated_at::int AS at, status FROM deliveries WHERE destination = 'shop/a' ORDER BY event_id",
    );
    expect(rows.map((r) => [r.event_id, r.status, r.at])).toEqual([
      ['s1', 'delivered', 2_000],
      ['s2', 'delivered', 2_100],
      ['s3', 'delivered', 2_200],
      ['s4', 'delivered', 2_200],
    ]);
    const [s1, s2, s3, s4] = rows.map((r) => r.tx);
    expect([s2 == s3, s3 == s4, s1 == s2]).toEqual([true, true, false]);
    const [a] = (await store.status()).filter((c) => c.destination == 'shop/a');
    expect([a.delivered, a.queued, a.lastDeliveredAt]).toEqual([4, 0, 2_200]);
  });

  it('fails only the callers of the statement that failed; the next statement still runs', async () => {
    const { leased } = await store.insertEvents(['f1', 'f2'].map(stored), () => ['shop/f'], {
      leaseUntil: 9_000,
    });
    const [f1, f2] = leased!.map((d) => d.id);
    // Ids past PostgreSQL's bigint make the first statement fail; the second is sent after it.
    const bad = store.markDelivered([f1, 2 ** 70], 3_000);
    await turn();
    await turn();
    const good = store.markDelivered([f2], 3_100);
    await expect(bad).rejects.toThrow();
    await good;
    const rows = await sql(
      "SELECT id, status FROM deliveries WHERE destination = 'shop/f' ORDER BY id",
    );
    expect(rows.map((r) => [Number(r.id), r.status])).toEqual([
      [f1, 'queued'],
      [f2, 'delivered'],
    ]);
  });
});
