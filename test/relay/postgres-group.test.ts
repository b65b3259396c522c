/**
 * PostgreSQL group commit: inserts that arrive in one turn of the event loop share one statement,
 * and each caller still gets exactly its own result.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/relay/postgres';
import type { Store, StoredEvent } from '../../src/relay/store';
import { postgresAvailable, startPostgres, type PostgresServer } from './postgres-server';

const stored = (id: string, extra: Partial<StoredEvent> = {}): StoredEvent => ({
  site: 'shop',
  receivedAt: 1_000,
  time: 1_000,
  skewMs: 0,
  bot: false,
  event: {
    type: 'event',
    name: 'add_to_cart',
    id,
    anonymousId: 'a1',
    sessionId: 's1',
    timestamp: 1_000,
    url: 'https://shop.example/',
    path: '/',
  } as StoredEvent['event'],
  ...extra,
});

describe.runIf(postgresAvailable())('PostgreSQL group commit', () => {
  let server: PostgresServer;
  let store: Store;
  let transactions: (sql: string) => Promise<number>;
  beforeAll(async () => {
    server = await startPostgres();
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query('CREATE DATABASE grouped');
    await admin.end();
    const url = server.url.replace(/\/postgres$/, '/grouped');
    store = await openPostgresStore(url, { poolSize: 4 });
    transactions = async (sql) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return (await client.query(sql)).rowCount ?? 0;
      } finally {
        await client.end();
      }
    };
  });
  afterAll(async () => {
    await store?.close();
    server?.destroy();
  });

  it('gives each caller of one turn its own inserted events, duplicates and leased deliveries', async () => {
    const route = () => ['shop/a', 'shop/b'];
    const [first, second, third] = await Promise.all([
      store.insertEvents([stored('g1'), stored('g2'), stored('g1')], route, { leaseUntil: 9_000 }),
      // g2 is the first call's: the second sees it as a duplicate, as a later body would.
      store.insertEvents([stored('g3'), stored('g2')], route),
      store.insertEvents([stored('g4', { sendIp: '203.0.113.9' })], route, { leaseUntil: 9_500 }),
    ]);
    expect([first.inserted.map((s) => s.event.id), first.duplicates]).toEqual([['g1', 'g2'], 1]);
    expect(first.leased!.map((d) => [d.stored.event.id, d.destination]).sort()).toEqual([
      ['g1', 'shop/a'],
      ['g1', 'shop/b'],
      ['g2', 'shop/a'],
      ['g2', 'shop/b'],
    ]);
    expect([second.inserted.map((s) => s.event.id), second.duplicates]).toEqual([['g3'], 1]);
    expect(second.leased).toBeUndefined();
    expect(third.leased!.map((d) => d.stored.ip)).toEqual(['203.0.113.9', '203.0.113.9']);
    // The second call's deliveries were queued unleased: a lease finds them, and only them.
    const due = await store.lease('shop/a', 10, 2_000, 5_000);
    expect(due.map((d) => d.stored.event.id)).toEqual(['g3']);
  });

  it('refuses only the body the database refuses; the others of its turn are stored', async () => {
    const before = await store.countEvents();
    const results = await Promise.allSettled([
      store.insertEvents([stored('n1')], () => ['shop/a']),
      // PostgreSQL text cannot hold NUL: this statement fails on its own.
      store.insertEvents([stored('bad\u0000id')], () => ['shop/a']),
      store.insertEvents([stored('n2')], () => ['shop/a']),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await store.countEvents()).toBe(before + 2);
  });

  it('writes a turn of bodies in one transaction', async () => {
    const bodies = Array.from({ length: 5 }, (_, b) =>
      Array.from({ length: 4 }, (_, i) => stored(`t${b}-${i}`)),
    );
    await Promise.all(bodies.map((events) => store.insertEvents(events, () => ['shop/a'])));
    // Rows written by one transaction share its id (xmin): one for the five bodies.
    expect(await transactions("SELECT DISTINCT xmin::text FROM events WHERE id LIKE 't%'")).toBe(1);
  });
});
