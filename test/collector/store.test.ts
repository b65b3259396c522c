/** The SQLite store: dedupe, leases, retries, dead letters, visitor state, survival across reopen. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/collector/sqlite';
import type { StoredEvent } from '../../src/collector/store';
import { pageview, tempDir } from './helpers';

const stored = (id: string, site = 'shop'): StoredEvent => ({ site, event: pageview({ id }), receivedAt: 1000, time: 900, skewMs: 0, bot: false });
const toBoth = () => ['shop/a', 'shop/b'];

describe('SQLite store', () => {
  it('stores each (site, id) once and queues only new events', async () => {
    const store = openSqliteStore();
    expect(await store.insertEvents([stored('1'), stored('2')], toBoth)).toMatchObject({ duplicates: 0, inserted: [{}, {}] });
    expect(await store.insertEvents([stored('2'), stored('3'), stored('2', 'other')], toBoth)).toMatchObject({ duplicates: 1 });
    expect(await store.countEvents()).toBe(4);
    expect((await store.status()).map((s) => [s.destination, s.queued])).toEqual([['shop/a', 4], ['shop/b', 4]]);
    await store.close();
  });

  it('leases due deliveries oldest first and hides them until the lease ends', async () => {
    const store = openSqliteStore();
    await store.insertEvents(['1', '2', '3'].map((id) => stored(id)), () => ['d']);
    const first = await store.lease('d', 2, 2000, 5000);
    expect(first.map((d) => d.stored.event.id)).toEqual(['1', '2']);
    expect((await store.lease('d', 10, 2000, 5000)).map((d) => d.stored.event.id)).toEqual(['3']);
    expect(await store.lease('d', 10, 4000, 9000)).toEqual([]);
    expect((await store.lease('d', 10, 5000, 9000)).length).toBe(3);
    await store.close();
  });

  it('retries at a time, dead-letters, lists and requeues', async () => {
    const store = openSqliteStore();
    await store.insertEvents(['1', '2'].map((id) => stored(id)), () => ['d']);
    const [one, two] = await store.lease('d', 10, 2000, 3000);
    await store.retryAt([one.id], 10_000, 'HTTP 503', 2000);
    await store.deadLetter([two.id], 'HTTP 400', 2000);
    expect(await store.lease('d', 10, 9000, 9500)).toEqual([]);
    expect((await store.lease('d', 10, 10_000, 11_000)).map((d) => [d.attempts, d.lastError])).toEqual([[1, 'HTTP 503']]);
    expect(await store.status()).toMatchObject([{ destination: 'd', queued: 1, retrying: 1, delivered: 0, dead: 1, lastError: 'HTTP 400' }]);
    expect((await store.deadLetters('d')).map((d) => d.stored.event.id)).toEqual(['2']);
    expect(await store.requeue('d', undefined, 12_000)).toBe(1);
    expect((await store.lease('d', 10, 20_000, 21_000)).map((d) => [d.stored.event.id, d.attempts])).toEqual([['1', 1], ['2', 0]]);
    await store.close();
  });

  it('keeps per-visitor state and everything across reopening the file', async () => {
    const path = join(tempDir(), 'q.db');
    let store = openSqliteStore(path);
    await store.insertEvents([stored('1')], () => ['d']);
    await store.setState('d', 'anon-1', { profileId: 'p-1' });
    await store.close();
    store = openSqliteStore(path);
    expect(await store.getState('d', 'anon-1')).toEqual({ profileId: 'p-1' });
    expect(await store.getState('d', 'anon-2')).toBeUndefined();
    expect((await store.lease('d', 10, 2000, 3000)).length).toBe(1);
    await store.close();
  });
});
