/**
 * The relay's storage contract, run against every store (store.test.ts), so SQLite and PostgreSQL
 * cannot drift apart. `makeStore()` gives a fresh, empty place to store and a way to open it:
 * `open()` twice gives two handles on the same data, as two relay processes have.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { REJECTED_RAW_MAX, type Store, type StoredEvent } from '../../src/relay/store';
import type { TrackletEvent } from '../../src/types';
import { pageview } from './helpers';

export interface StorePlace {
  open(): Promise<Store>;
}

let seq = 0;
const event = (id: string, extra: Partial<TrackletEvent> = {}): TrackletEvent =>
  ({
    type: 'pageview',
    id,
    timestamp: 1_700_000_000_000 + seq++,
    anonymousId: 'anon-1',
    sessionId: 'sess-1',
    url: 'https://shop.example/p?q=1',
    path: '/p',
    title: 'Päge “quoted” \u2028 ✓',
    referrer: '',
    properties: { nested: { list: [1, 'two', null, true] } },
    ...extra,
  }) as TrackletEvent;

const stored = (
  id: string,
  site = 'shop',
  receivedAt = 1_000,
  extra: Partial<StoredEvent> = {},
): StoredEvent => ({
  site,
  event: event(id),
  receivedAt,
  time: receivedAt - 5,
  skewMs: 5,
  ip: '203.0.113.7',
  userAgent: 'Mozilla/5.0',
  bot: false,
  origin: 'https://shop.example',
  ...extra,
});

const toAll = (destinations: string[]) => () => destinations;
const ids = (list: { stored: StoredEvent }[]) => list.map((d) => d.stored.event.id);

/** Runs the storage contract against one kind of store. */
export function storeSuite(name: string, makeStore: () => Promise<StorePlace>): void {
  describe(`store contract: ${name}`, () => {
    const opened: Store[] = [];
    const fresh = async () => {
      const place = await makeStore();
      const open = async () => {
        const store = await place.open();
        opened.push(store);
        return store;
      };
      return { store: await open(), open };
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((s) => s.close()));
    });

    it('stores events with every field intact and counts them', async () => {
      const { store } = await fresh();
      const one = stored('e1', 'shop', 1_000, { ip: undefined, origin: undefined });
      const two = stored('e2', 'shop', 2_000, { bot: true });
      await store.insertEvents([one, two], toAll([]));
      expect(await store.countEvents()).toBe(2);
      expect(await store.events()).toEqual([one, two]);
    });

    it('lists events received in the same millisecond in the order they were stored', async () => {
      const { store } = await fresh();
      // Ids that sort against their order of arrival, all at one received time.
      const ids = ['z9', 'm5', 'a1', 'q7', 'b2'];
      for (const id of ids) await store.insertEvents([stored(id, 'shop', 5_000)], toAll([]));
      expect((await store.events()).map((s) => s.event.id)).toEqual(ids);
      expect((await store.events(2)).map((s) => s.event.id)).toEqual(['q7', 'b2']);
    });

    it.each([
      {
        case: 'the same batch twice',
        first: ['a', 'b'],
        second: ['a', 'b'],
        inserted: [2, 0],
        duplicates: [0, 2],
        total: 2,
      },
      {
        case: 'overlapping batches',
        first: ['a', 'b'],
        second: ['b', 'c'],
        inserted: [2, 1],
        duplicates: [0, 1],
        total: 3,
      },
      {
        case: 'one id twice in a batch',
        first: ['a', 'a', 'b'],
        second: [],
        inserted: [2, 0],
        duplicates: [1, 0],
        total: 2,
      },
    ])(
      'deduplicates by (site, id): $case',
      async ({ first, second, inserted, duplicates, total }) => {
        const { store } = await fresh();
        const r1 = await store.insertEvents(
          first.map((id) => stored(id)),
          toAll(['shop/hook']),
        );
        const r2 = await store.insertEvents(
          second.map((id) => stored(id)),
          toAll(['shop/hook']),
        );
        expect([r1.inserted.length, r2.inserted.length]).toEqual(inserted);
        expect([r1.duplicates, r2.duplicates]).toEqual(duplicates);
        expect(await store.countEvents()).toBe(total);
        const [counts] = await store.status();
        expect(counts.queued).toBe(total);
      },
    );

    it('keeps the same event id on two sites apart', async () => {
      const { store } = await fresh();
      const result = await store.insertEvents(
        [stored('x', 'shop'), stored('x', 'blog')],
        toAll([]),
      );
      expect(result).toMatchObject({ duplicates: 0 });
      expect(await store.countEvents()).toBe(2);
    });

    it('stores a batch arriving at two handles at once only once, and queues it once', async () => {
      const { store, open } = await fresh();
      const other = await open();
      const batch = Array.from({ length: 50 }, (_, i) => stored(`same-${i}`));
      const results = await Promise.all([
        store.insertEvents(batch, toAll(['shop/hook'])),
        other.insertEvents(batch, toAll(['shop/hook'])),
      ]);
      expect(results[0].inserted.length + results[1].inserted.length).toBe(50);
      expect(results[0].duplicates + results[1].duplicates).toBe(50);
      expect(await other.countEvents()).toBe(50);
      expect((await store.lease('shop/hook', 500, 5_000, 10_000)).length).toBe(50);
    });

    it('queues each new event for the destinations the route names, and only those', async () => {
      const { store } = await fresh();
      await store.insertEvents([stored('a'), stored('b', 'shop', 1_000, { bot: true })], (s) =>
        s.bot ? ['shop/hook'] : ['shop/hook', 'shop/crm'],
      );
      expect(ids(await store.lease('shop/hook', 10, 5_000, 10_000))).toEqual(['a', 'b']);
      expect(ids(await store.lease('shop/crm', 10, 5_000, 10_000))).toEqual(['a']);
      expect(await store.lease('shop/other', 10, 5_000, 10_000)).toEqual([]);
    });

    it('leases due deliveries oldest first, up to the limit, hidden until the lease runs out', async () => {
      const { store } = await fresh();
      await store.insertEvents(
        ['a', 'b', 'c'].map((id, i) => stored(id, 'shop', 1_000 + i)),
        toAll(['shop/hook']),
      );
      const first = await store.lease('shop/hook', 2, 5_000, 6_000);
      expect(ids(first)).toEqual(['a', 'b']);
      expect(first[0]).toMatchObject({ destination: 'shop/hook', attempts: 0, status: 'queued' });
      expect(ids(await store.lease('shop/hook', 10, 5_500, 6_500))).toEqual(['c']);
      expect(await store.lease('shop/hook', 10, 5_999, 7_000)).toEqual([]);
      expect(ids(await store.lease('shop/hook', 10, 6_000, 7_000))).toEqual(['a', 'b']);
    });

    it(
      'queues an ingest already leased when asked: returns those deliveries ' +
        'as a lease would read them, hidden until the lease runs out',
      async () => {
        const { store, open } = await fresh();
        const other = await open();
        const sent = stored('a', 'shop', 1_000, { ip: '203.0.113.0', sendIp: '203.0.113.7' });
        const result = await store.insertEvents(
          [sent, stored('b', 'shop', 1_001)],
          toAll(['shop/hook', 'shop/crm']),
          { leaseUntil: 60_000 },
        );
        expect(result.inserted.map((s) => s.event.id)).toEqual(['a', 'b']);
        const leased = result.leased ?? [];
        expect(leased.map((d) => `${d.destination} ${d.stored.event.id}`).sort()).toEqual([
          'shop/crm a',
          'shop/crm b',
          'shop/hook a',
          'shop/hook b',
        ]);
        // The same as a lease reads back: the stored event (no sendIp) with the full IP over the stored one.
        const read = { ...sent, ip: '203.0.113.7' } as Partial<StoredEvent>;
        delete read.sendIp;
        expect(
          leased.find((d) => d.destination == 'shop/hook' && d.stored.event.id == 'a'),
        ).toMatchObject({ attempts: 0, status: 'queued', stored: read });
        expect(
          leased.find((d) => d.destination == 'shop/hook' && d.stored.event.id == 'a')!.stored,
        ).not.toHaveProperty('sendIp');
        // Another process (or the poll) cannot lease them before the lease runs out; then it can.
        expect(await other.lease('shop/hook', 10, 59_999, 120_000)).toEqual([]);
        const later = await other.lease('shop/hook', 10, 60_000, 120_000);
        expect(later.map((d) => d.id).sort()).toEqual(
          leased
            .filter((d) => d.destination == 'shop/hook')
            .map((d) => d.id)
            .sort(),
        );
        expect(later.find((d) => d.stored.event.id == 'a')!.stored).toEqual(read);
        // A duplicate is neither stored nor queued again.
        const again = await store.insertEvents([stored('a')], toAll(['shop/hook']), {
          leaseUntil: 60_000,
        });
        expect(again).toMatchObject({ inserted: [], duplicates: 1 });
        expect(again.leased ?? []).toEqual([]);
      },
    );

    it('never gives one delivery to two handles leasing at the same moment', async () => {
      const { store, open } = await fresh();
      const other = await open();
      await store.insertEvents(
        Array.from({ length: 120 }, (_, i) => stored(`q${i}`)),
        toAll(['shop/hook']),
      );
      const leases = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          (i % 2 ? other : store).lease('shop/hook', 15, 5_000, 60_000),
        ),
      );
      const all = leases.flatMap(ids);
      expect(new Set(all).size).toBe(all.length);
      // Everything is leased once the queue is drained by repeated leasing.
      for (let round = 0; round < 10; round++) {
        const more = await store.lease('shop/hook', 50, 5_000, 60_000);
        if (!more.length) break;
        all.push(...ids(more));
      }
      expect(all.sort()).toEqual(Array.from({ length: 120 }, (_, i) => `q${i}`).sort());
    });

    it('delivered deliveries are never leased again and show in the counts', async () => {
      const { store } = await fresh();
      await store.insertEvents([stored('a'), stored('b')], toAll(['shop/hook']));
      const leased = await store.lease('shop/hook', 10, 5_000, 6_000);
      await store.markDelivered([leased[0].id], 5_100);
      expect(ids(await store.lease('shop/hook', 10, 7_000, 8_000))).toEqual(['b']);
      expect(await store.status()).toEqual([
        {
          destination: 'shop/hook',
          queued: 1,
          retrying: 0,
          delivered: 1,
          dead: 0,
          lastDeliveredAt: 5_100,
        },
      ]);
    });

    it('released deliveries are due again at once with the same attempt count', async () => {
      const { store } = await fresh();
      await store.insertEvents([stored('a')], toAll(['shop/hook']));
      const [leased] = await store.lease('shop/hook', 10, 5_000, 60_000);
      await store.release([leased.id]);
      const [again] = await store.lease('shop/hook', 10, 5_001, 60_000);
      expect(again).toMatchObject({ id: leased.id, attempts: 0 });
    });

    it('a retry counts the attempt, waits until its time and shows as retrying with the error', async () => {
      const { store } = await fresh();
      await store.insertEvents([stored('a')], toAll(['shop/hook']));
      const [leased] = await store.lease('shop/hook', 10, 5_000, 60_000);
      await store.retryAt([leased.id], 9_000, 'HTTP 503', 5_200);
      expect(await store.lease('shop/hook', 10, 8_999, 60_000)).toEqual([]);
      const [again] = await store.lease('shop/hook', 10, 9_000, 60_000);
      expect(again).toMatchObject({
        id: leased.id,
        attempts: 1,
        lastError: 'HTTP 503',
        updatedAt: 5_200,
      });
      expect(await store.status()).toEqual([
        {
          destination: 'shop/hook',
          queued: 1,
          retrying: 1,
          delivered: 0,
          dead: 0,
          lastError: 'HTTP 503',
          lastErrorAt: 5_200,
        },
      ]);
    });

    it('dead letters are listed with their event and can be requeued with a fresh attempt count', async () => {
      const { store } = await fresh();
      await store.insertEvents([stored('a'), stored('b')], toAll(['shop/hook', 'shop/crm']));
      for (const destination of ['shop/hook', 'shop/crm']) {
        const leased = await store.lease(destination, 10, 5_000, 60_000);
        await store.deadLetter(
          leased.map((d) => d.id),
          'HTTP 400',
          5_100,
        );
      }
      const dead = await store.deadLetters();
      expect(
        dead.map((d) => [d.destination, d.stored.event.id, d.status, d.attempts, d.lastError]),
      ).toEqual([
        ['shop/hook', 'a', 'dead', 1, 'HTTP 400'],
        ['shop/crm', 'a', 'dead', 1, 'HTTP 400'],
        ['shop/hook', 'b', 'dead', 1, 'HTTP 400'],
        ['shop/crm', 'b', 'dead', 1, 'HTTP 400'],
      ]);
      expect(dead[0].stored).toEqual(stored('a', 'shop', 1_000, { event: dead[0].stored.event }));
      expect(await store.deadLetters('shop/crm', 1)).toHaveLength(1);
      expect(await store.lease('shop/hook', 10, 6_000, 60_000)).toEqual([]);

      expect(await store.requeue('shop/hook', [dead[0].id], 7_000)).toBe(1);
      expect(await store.requeue('shop/crm', undefined, 7_000)).toBe(2);
      expect(await store.requeue(undefined, undefined, 7_000)).toBe(1);
      const again = await store.lease('shop/hook', 10, 7_000, 60_000);
      expect(again.map((d) => [d.stored.event.id, d.attempts, d.status])).toEqual([
        ['a', 0, 'queued'],
        ['b', 0, 'queued'],
      ]);
      expect(await store.deadLetters()).toEqual([]);
    });

    it('enqueue queues stored events for another destination, skipping ones already queued', async () => {
      const { store } = await fresh();
      await store.insertEvents([stored('a'), stored('b')], toAll(['shop/hook']));
      expect(await store.enqueue('shop/crm', [{ site: 'shop', id: 'a' }], 3_000)).toBe(1);
      expect(
        await store.enqueue(
          'shop/crm',
          [
            { site: 'shop', id: 'a' },
            { site: 'shop', id: 'b' },
          ],
          3_000,
        ),
      ).toBe(1);
      expect(ids(await store.lease('shop/crm', 10, 3_000, 60_000))).toEqual(['a', 'b']);
    });

    it('keeps per-visitor destination state, shared by every handle', async () => {
      const { store, open } = await fresh();
      const other = await open();
      expect(await store.getState('shop/tracardi', 'anon-1')).toBeUndefined();
      await store.setState('shop/tracardi', 'anon-1', { profile: 'p-1', n: 1 });
      await store.setState('shop/other', 'anon-1', 'x');
      expect(await other.getState('shop/tracardi', 'anon-1')).toEqual({ profile: 'p-1', n: 1 });
      await other.setState('shop/tracardi', 'anon-1', { profile: 'p-2' });
      expect(await store.getState('shop/tracardi', 'anon-1')).toEqual({ profile: 'p-2' });
      expect(await store.getState('shop/other', 'anon-1')).toBe('x');
    });

    it('lists the newest events, newest last', async () => {
      const { store } = await fresh();
      for (const id of ['a', 'b', 'c', 'd'])
        await store.insertEvents([stored(id, 'shop', 1_000 + id.charCodeAt(0))], toAll([]));
      expect((await store.events(2)).map((s) => s.event.id)).toEqual(['c', 'd']);
    });

    it('a second handle sees what the first stored, also after the first is closed', async () => {
      const { store, open } = await fresh();
      await store.insertEvents([stored('a')], toAll(['shop/hook']));
      await store.close();
      const other = await open();
      expect(await other.countEvents()).toBe(1);
      expect(ids(await other.lease('shop/hook', 10, 5_000, 60_000))).toEqual(['a']);
    });
    // The SQLite store's first tests, now part of the contract every store keeps.
    const plain = (id: string, site = 'shop'): StoredEvent => ({
      site,
      event: pageview({ id }),
      receivedAt: 1000,
      time: 900,
      skewMs: 0,
      bot: false,
    });
    const toBoth = () => ['shop/a', 'shop/b'];

    it('stores each (site, id) once and queues only new events', async () => {
      const { store } = await fresh();
      expect(await store.insertEvents([plain('1'), plain('2')], toBoth)).toMatchObject({
        duplicates: 0,
        inserted: [{}, {}],
      });
      expect(
        await store.insertEvents([plain('2'), plain('3'), plain('2', 'other')], toBoth),
      ).toMatchObject({ duplicates: 1 });
      expect(await store.countEvents()).toBe(4);
      expect((await store.status()).map((s) => [s.destination, s.queued])).toEqual([
        ['shop/a', 4],
        ['shop/b', 4],
      ]);
    });

    it('retries at a time, dead-letters, lists and requeues', async () => {
      const { store } = await fresh();
      await store.insertEvents(
        ['1', '2'].map((id) => plain(id)),
        () => ['d'],
      );
      const [one, two] = await store.lease('d', 10, 2000, 3000);
      await store.retryAt([one.id], 10_000, 'HTTP 503', 2000);
      await store.deadLetter([two.id], 'HTTP 400', 2000);
      expect(await store.lease('d', 10, 9000, 9500)).toEqual([]);
      expect(
        (await store.lease('d', 10, 10_000, 11_000)).map((d) => [d.attempts, d.lastError]),
      ).toEqual([[1, 'HTTP 503']]);
      expect(await store.status()).toMatchObject([
        { destination: 'd', queued: 1, retrying: 1, delivered: 0, dead: 1, lastError: 'HTTP 400' },
      ]);
      expect((await store.deadLetters('d')).map((d) => d.stored.event.id)).toEqual(['2']);
      expect(await store.requeue('d', undefined, 12_000)).toBe(1);
      expect(
        (await store.lease('d', 10, 20_000, 21_000)).map((d) => [d.stored.event.id, d.attempts]),
      ).toEqual([
        ['1', 1],
        ['2', 0],
      ]);
    });

    it('keeps per-visitor state and everything across reopening', async () => {
      const { store, open } = await fresh();
      await store.insertEvents([plain('1')], () => ['d']);
      await store.setState('d', 'anon-1', { profileId: 'p-1' });
      await store.close();
      const again = await open();
      expect(await again.getState('d', 'anon-1')).toEqual({ profileId: 'p-1' });
      expect(await again.getState('d', 'anon-2')).toBeUndefined();
      expect((await again.lease('d', 10, 2000, 3000)).length).toBe(1);
    });

    it('keeps refused events with their reasons, newest last, counted, across reopening', async () => {
      const { store, open } = await fresh();
      expect(await store.countRejected()).toBe(0);
      expect(await store.rejected()).toEqual([]);
      const first = {
        site: 'shop',
        receivedAt: 1_000,
        index: 2,
        field: 'timestamp',
        reason: 'older than 30 days',
        raw: '{"type":"pageview"}',
        ip: '203.0.113.7',
      };
      const second = {
        site: 'shop',
        receivedAt: 2_000,
        index: 0,
        field: 'properties.a\u0000b',
        reason: 'nested “deeper” ✓',
        raw: '{"x":1}',
      };
      await store.insertRejected([first]);
      await store.insertRejected([second]);
      await store.insertRejected([]);
      await store.close();
      const again = await open();
      expect(await again.countRejected()).toBe(2);
      const rows = await again.rejected();
      expect(rows.map(({ id, ...rest }) => rest)).toEqual([
        first,
        { ...second, field: expect.stringMatching(/^properties\.a.b$/) },
      ]);
      expect(rows[0].id).toBeLessThan(rows[1].id!);
      expect((await again.rejected(1)).map((r) => r.receivedAt)).toEqual([2_000]);
    });

    it(
      'prunes exactly what is older than the cut-off, in bounded ' +
        'steps, and keeps events still owed to a destination',
      async () => {
        const { store } = await fresh();
        // Old (received at 1,000–1,004) and new (5,000) events; one old event is still queued, one dead-lettered.
        await store.insertEvents(
          ['o1', 'o2', 'o3', 'o4', 'o5'].map((id, i) => stored(id, 'shop', 1_000 + i)),
          toAll(['d']),
        );
        await store.insertEvents([stored('n1', 'shop', 5_000)], toAll(['d']));
        const leased = await store.lease('d', 10, 6_000, 7_000);
        const byId = new Map(leased.map((d) => [d.stored.event.id, d.id]));
        await store.markDelivered(
          ['o1', 'o2', 'o3', 'n1'].map((id) => byId.get(id)!),
          1_500,
        );
        await store.deadLetter([byId.get('o5')!], 'HTTP 400', 1_500);
        await store.release([byId.get('o4')!]);
        await store.setState('d', 'anon-old', { a: 1 });
        await store.insertRejected([
          { site: 'shop', receivedAt: 1_000, index: 0, field: 'f', reason: 'r', raw: '{}' },
        ]);

        expect(await store.prune('events', 3_000, 2)).toBe(2);
        expect(await store.prune('events', 3_000, 2)).toBe(1);
        // o4 is queued and o5 dead-lettered: kept.
        expect(await store.prune('events', 3_000, 2)).toBe(0);
        expect((await store.events()).map((e) => e.event.id).sort()).toEqual(['n1', 'o4', 'o5']);
        // The pruned events' delivered rows went with them; the rest of the queue is untouched.
        expect((await store.status()).find((c) => c.destination == 'd')).toMatchObject({
          queued: 1,
          delivered: 1,
          dead: 1,
        });
        expect(await store.prune('delivered', 1_000, 10)).toBe(0);
        expect(await store.prune('deadLetters', 2_000, 10)).toBe(1);
        expect((await store.status()).find((c) => c.destination == 'd')).toMatchObject({
          queued: 1,
          delivered: 1,
          dead: 0,
        });
        expect(await store.prune('visitorState', Date.now() + 1_000, 10)).toBe(1);
        expect(await store.getState('d', 'anon-old')).toBeUndefined();
        expect(await store.prune('rejected', 999, 10)).toBe(0);
        expect(await store.prune('rejected', 1_001, 10)).toBe(1);
        // Still leasable: o4's delivery kept its event.
        expect((await store.lease('d', 10, 8_000, 9_000)).map((d) => d.stored.event.id)).toEqual([
          'o4',
        ]);
      },
    );

    it('erases a visitor by anonymous id or user id and remembers the ids as suppressed', async () => {
      const { store, open } = await fresh();
      const mine = (id: string, over: Partial<TrackletEvent>) => ({
        ...stored(id),
        event: { ...event(id), ...over } as TrackletEvent,
      });
      await store.insertEvents(
        [
          mine('a1', { anonymousId: 'anon-a' }),
          mine('a2', { anonymousId: 'anon-a', userId: 'user-a' }),
          mine('a3', { anonymousId: 'anon-a2', userId: 'user-a' }),
          mine('b1', { anonymousId: 'anon-b' }),
        ],
        toAll(['d', 'e']),
      );
      await store.setState('d', 'anon-a', { profileId: 'p' });
      await store.setState('d', 'anon-b', { profileId: 'q' });
      await store.insertRejected([
        {
          site: 'shop',
          receivedAt: 1,
          index: 0,
          field: 'f',
          reason: 'r',
          raw: '{"anonymousId":"anon-a2","x":1}',
        },
        {
          site: 'shop',
          receivedAt: 1,
          index: 0,
          field: 'f',
          reason: 'r',
          raw: '{"anonymousId":"anon-b"}',
        },
      ]);

      const erased = await store.erase({ userId: 'user-a' }, 10);
      expect({
        ...erased,
        suppressed: { ...erased.suppressed, anonymousIds: erased.suppressed.anonymousIds.sort() },
      }).toEqual({
        events: 3,
        deliveries: 6,
        visitorState: 1,
        rejected: 1,
        suppressed: { anonymousIds: ['anon-a', 'anon-a2'], userIds: ['user-a'] },
      });
      expect((await store.events()).map((e) => e.event.id)).toEqual(['b1']);
      expect((await store.lease('d', 10, 20_000, 21_000)).map((d) => d.stored.event.id)).toEqual([
        'b1',
      ]);
      expect(await store.getState('d', 'anon-b')).toEqual({ profileId: 'q' });
      expect((await store.rejected()).map((r) => r.raw)).toEqual(['{"anonymousId":"anon-b"}']);
      expect(await store.erase({ anonymousId: 'anon-b' }, 11)).toMatchObject({
        events: 1,
        deliveries: 2,
      });
      await store.close();
      const again = await open();
      const suppressed = await again.suppressed();
      expect({ anonymousIds: suppressed.anonymousIds.sort(), userIds: suppressed.userIds }).toEqual(
        { anonymousIds: ['anon-a', 'anon-a2', 'anon-b'], userIds: ['user-a'] },
      );
      await again.ping();
    });

    it(
      'keeps the full IP for sending with the queued deliveries ' +
        'only, never with the event, and forgets it once settled',
      async () => {
        const { store } = await fresh();
        await store.insertEvents(
          [
            stored('ip1', 'shop', 1_000, { ip: '203.0.113.0', sendIp: '203.0.113.57' }),
            stored('ip2', 'shop', 1_001, { ip: '203.0.113.0', sendIp: '203.0.113.58' }),
          ],
          toAll(['d']),
        );
        expect((await store.events()).map((e) => [e.ip, 'sendIp' in e])).toEqual([
          ['203.0.113.0', false],
          ['203.0.113.0', false],
        ]);
        const leased = await store.lease('d', 10, 2_000, 3_000);
        expect(leased.map((d) => d.stored.ip)).toEqual(['203.0.113.57', '203.0.113.58']);
        await store.deadLetter([leased[1].id], 'HTTP 400', 2_100);
        expect((await store.deadLetters('d')).map((d) => d.stored.ip)).toEqual(['203.0.113.0']);
        await store.retryAt([leased[0].id], 2_500, 'HTTP 503', 2_100);
        expect((await store.lease('d', 10, 4_000, 5_000)).map((d) => d.stored.ip)).toEqual([
          '203.0.113.57',
        ]);
      },
    );

    it("cuts a refused event's raw JSON to the size cap", async () => {
      const { store } = await fresh();
      await store.insertRejected([
        {
          site: 'shop',
          receivedAt: 1,
          index: 0,
          field: '(event)',
          reason: 'r',
          raw: 'x'.repeat(REJECTED_RAW_MAX * 3),
        },
      ]);
      const [row] = await store.rejected();
      expect(row.raw).toHaveLength(REJECTED_RAW_MAX);
    });
  });
}
