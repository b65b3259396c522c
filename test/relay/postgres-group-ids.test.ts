/**
 * PostgreSQL group commit with an id the database does not keep as sent (an unpaired surrogate is
 * written as U+FFFD), or a turn whose statement cannot be built: each caller of the turn still gets
 * its own result, for a store used without the relay's ingest checks in front of it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/relay/postgres';
import type { Store, StoredEvent } from '../../src/relay/store';
import {
  createDatabase,
  postgresAvailable,
  startPostgres,
  type PostgresServer,
} from './postgres-server';

const stored = (id: string): StoredEvent => ({
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
});

describe.runIf(postgresAvailable())('PostgreSQL group commit and odd ids', () => {
  let server: PostgresServer;
  let store: Store;
  beforeAll(async () => {
    server = await startPostgres();
    const database = await createDatabase(server, 'odd_ids');
    store = await openPostgresStore(database, {
      poolSize: 2,
    });
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    server?.destroy();
  });

  it('gives every caller of the turn its result when one id holds an unpaired surrogate', async () => {
    const route = () => ['shop/a'];
    const results = await Promise.allSettled([
      store.insertEvents([stored('o1')], route),
      store.insertEvents([stored('half\ud800'), stored('o2')], route, { leaseUntil: 9_000 }),
      store.insertEvents([stored('o3')], route),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    const [first, second, third] = results.map(
      (r) => (r as PromiseFulfilledResult<Awaited<ReturnType<Store['insertEvents']>>>).value,
    );
    expect(first.inserted.map((s) => s.event.id)).toEqual(['o1']);
    expect(second.inserted.map((s) => s.event.id)).toEqual(['half\ud800', 'o2']);
    expect(second.leased!.map((d) => d.stored.event.id)).toEqual(['half\ud800', 'o2']);
    expect(third.inserted.map((s) => s.event.id)).toEqual(['o3']);
    // Sent again, it is the same stored row: a duplicate.
    const again = await store.insertEvents([stored('half\ud800')], route);
    expect([again.inserted.length, again.duplicates]).toEqual([0, 1]);
  });

  it('writes a turn call by call when its statement cannot be built; the one at fault fails alone', async () => {
    const route = () => ['shop/a'];
    // A value JSON cannot write (from a caller of the store, not from a request body): serialising
    // the turn's events throws before anything reaches the database, as a turn too large to hold
    // in one string does ("Invalid string length").
    const unwritable = stored('big1');
    (unwritable.event as unknown as Record<string, unknown>).properties = { n: BigInt(1) };
    const results = await Promise.allSettled([
      store.insertEvents([stored('w1')], route),
      store.insertEvents([unwritable], route),
      store.insertEvents([stored('w2')], route),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });
});
