import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { resolveConfig } from '../../src/config';
import type { Config } from '../../src/core/contract';
import { backoff, createOutbox, stats } from '../../src/core/outbox';
import { MAX_BODY, byteLength } from '../../src/core/transport';
import type { Batch, TrackletEvent } from '../../src/types';

const config = (options: Record<string, unknown> = {}): Config =>
  resolveConfig({ endpoint: 'https://c.example/collect', site: 's', ...options }, false)!;

let serial = 0;
const event = (timestamp = Date.now(), text = ''): TrackletEvent => ({
  id: 'id' + serial++,
  type: 'event',
  name: 'e' + text,
  timestamp,
  anonymousId: 'a',
  sessionId: 's',
  url: 'https://s.example/',
  path: '/',
});

/** A collector stub: answers each request with the next status (the last one repeats). */
const collector = (...answers: (number | Response | Error)[]) => {
  const bodies: Batch[] = [];
  const fetch = vi.fn(async (_url: string, init: RequestInit) => {
    bodies.push(JSON.parse(init.body as string));
    const answer = answers.length > 1 ? answers.shift()! : answers[0];
    if (answer instanceof Error) throw answer;
    return answer instanceof Response ? answer : new Response(null, { status: answer });
  });
  vi.stubGlobal('fetch', fetch);
  return { fetch, bodies, ids: () => bodies.flatMap((body) => body.events.map((e) => e.id)) };
};

const stored = () =>
  Object.keys(localStorage)
    .filter((key) => key.startsWith('tracklet:o:'))
    .flatMap((key) => JSON.parse(localStorage.getItem(key)!).slice(1) as TrackletEvent[])
    .map((e) => e.id);

beforeEach(() => {
  localStorage.clear();
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('backoff', () => {
  it.each([
    [0, 0, 0, 1000],
    [1, 0, 0, 2000],
    [3, 0, 0, 8000],
    [3, 0, 1, 4000],
    [20, 0, 0, 300_000],
    [0, 120_000, 0, 120_000],
    [8, 1000, 0, 256_000],
  ])(
    'waits for retry %i (Retry-After %i ms, random %f) %i ms',
    (attempt, retryAfter, random, delay) => {
      expect(backoff(attempt, retryAfter, () => random)).toBe(delay);
    },
  );
});

describe('outbox', () => {
  it('keeps events until a 2xx confirms them, then forgets them', async () => {
    const { ids } = collector(503, 204);
    const outbox = createOutbox(config());
    const events = [event(), event(), event()];
    outbox.add(events);
    await outbox.drain();
    expect(stored()).toEqual(events.map((e) => e.id));
    await vi.advanceTimersByTimeAsync(2000);
    expect(stored()).toEqual([]);
    expect(ids()).toEqual([...events, ...events].map((e) => e.id));
  });

  it.each([[500], [503], [408], [429], [new TypeError('network')]])(
    'retries with backoff after %s',
    async (answer) => {
      const { fetch } = collector(answer, 204);
      const outbox = createOutbox(config());
      outbox.add([event()]);
      await outbox.drain();
      expect(fetch).toHaveBeenCalledTimes(1);
      await vi.advanceTimersByTimeAsync(499);
      expect(fetch).toHaveBeenCalledTimes(1);
      await vi.advanceTimersByTimeAsync(501);
      expect(fetch).toHaveBeenCalledTimes(2);
      expect(stored()).toEqual([]);
    },
  );

  it('honours Retry-After', async () => {
    const { fetch } = collector(
      new Response(null, { status: 429, headers: { 'Retry-After': '120' } }),
      204,
    );
    const outbox = createOutbox(config());
    outbox.add([event()]);
    await outbox.drain();
    await vi.advanceTimersByTimeAsync(119_000);
    expect(fetch).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(fetch).toHaveBeenCalledTimes(2);
  });

  it.each([[400], [413], [422]])(
    'drops a batch the collector refuses with %i, and counts it',
    async (status) => {
      const { fetch } = collector(status);
      const outbox = createOutbox(config());
      const dropped = stats.dropped;
      outbox.add([event(), event()]);
      await outbox.drain();
      await vi.advanceTimersByTimeAsync(600_000);
      expect(fetch).toHaveBeenCalledTimes(1);
      expect(stored()).toEqual([]);
      expect(stats.dropped).toBe(dropped + 2);
    },
  );

  it('retries at once when the browser comes back online', async () => {
    const { fetch } = collector(new TypeError('offline'), 204);
    const outbox = createOutbox(config());
    outbox.add([event()]);
    await outbox.drain();
    const before = fetch.mock.calls.length;
    dispatchEvent(new Event('online'));
    await vi.advanceTimersByTimeAsync(0);
    // Outboxes of earlier tests listen too; what matters is that no timer was needed.
    expect(fetch.mock.calls.length).toBeGreaterThan(before);
    expect(stored()).toEqual([]);
  });

  it('keeps every body under 64 KiB and sends each event once', async () => {
    const { bodies, ids } = collector(204);
    const outbox = createOutbox(config());
    const events = Array.from({ length: 3000 }, () => event(Date.now(), 'x'.repeat(200) + '€'));
    outbox.add(events);
    await outbox.drain();
    expect(bodies.length).toBeGreaterThan(10);
    for (const body of bodies)
      expect(byteLength(JSON.stringify(body))).toBeLessThanOrEqual(MAX_BODY);
    expect(ids()).toEqual(events.map((e) => e.id));
  });

  it('drops an event too large for any request, with a warning', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const { ids } = collector(204);
    const outbox = createOutbox(config());
    const small = event();
    outbox.add([event(Date.now(), 'x'.repeat(MAX_BODY)), small]);
    await outbox.drain();
    expect(ids()).toEqual([small.id]);
    expect(console.warn).toHaveBeenCalledWith('[tracklet]', expect.stringContaining('32 KiB'));
  });

  it.each([
    ['events', { outboxMaxEvents: 1000 }, (events: TrackletEvent[]) => events.slice(-1000)],
    [
      'bytes',
      { outboxMaxBytes: 65536 },
      (events: TrackletEvent[]) => {
        let bytes = 0;
        return events
          .filter(
            (_, i) => (bytes += byteLength(JSON.stringify(events[events.length - 1 - i]))) <= 65536,
          )
          .map((_, i, kept) => events[events.length - kept.length + i]);
      },
    ],
  ])(
    'keeps the newest events within the %s cap once sends failed twice in a row',
    async (_, options, newest) => {
      collector(503);
      const outbox = createOutbox(config(options));
      const events = Array.from({ length: 1500 }, () => event());
      outbox.add(events);
      const dropped = stats.dropped;
      await outbox.drain();
      expect(stored()).toHaveLength(1500);
      await vi.advanceTimersByTimeAsync(1000);
      const kept = newest(events);
      expect(kept.length).toBeLessThan(1500);
      expect(stored()).toEqual(kept.map((e) => e.id));
      expect(stats.dropped).toBe(dropped + 1500 - kept.length);
    },
  );

  it('drops events older than outboxMaxAge days', async () => {
    const { ids } = collector(204);
    const outbox = createOutbox(config({ outboxMaxAge: 2 }));
    const fresh = event(Date.now() - 47 * 3600_000);
    outbox.add([event(Date.now() - 49 * 3600_000), fresh]);
    await outbox.drain();
    expect(ids()).toEqual([fresh.id]);
  });

  it('marks at hide what is left after expiry, without bringing expired events back', () => {
    vi.stubGlobal('navigator', { sendBeacon: () => true });
    const outbox = createOutbox(config());
    const fresh = event();
    outbox.add([event(Date.now() - 8 * 86_400_000), fresh]);
    outbox.hide();
    expect(stored()).toEqual([fresh.id]);
  });

  it('beacons at hide, and the next page (not this one) resends the beaconed events with the same ids', async () => {
    const beacon = vi.fn((_url: string, _body: string) => true);
    vi.stubGlobal('navigator', { sendBeacon: beacon });
    const { ids } = collector(204);
    const page1 = createOutbox(config());
    const events = [event(), event()];
    page1.add(events);
    page1.hide();
    page1.hide(); // visibilitychange then pagehide: beaconed once
    expect(beacon).toHaveBeenCalledTimes(1);
    expect(JSON.parse(beacon.mock.calls[0][1]).events.map((e: TrackletEvent) => e.id)).toEqual(
      events.map((e) => e.id),
    );
    await page1.drain();
    expect(ids()).toEqual([]);
    vi.advanceTimersByTime(1);
    const page2 = createOutbox(config());
    await vi.advanceTimersByTimeAsync(500);
    expect(ids()).toEqual(events.map((e) => e.id));
    expect(stored()).toEqual([]);
    await page2.drain();
    expect(ids()).toHaveLength(2);
  });

  it('falls back to keepalive fetch when sendBeacon refuses, and keeps the events when both refuse', async () => {
    vi.stubGlobal('navigator', { sendBeacon: () => false });
    const { fetch, ids } = collector(204);
    const outbox = createOutbox(config());
    const sent = event();
    outbox.add([sent]);
    outbox.hide();
    await vi.advanceTimersByTimeAsync(0);
    expect(ids()).toEqual([sent.id]);
    expect(stored()).toEqual([]);
    fetch.mockImplementation(() => Promise.reject(new TypeError('keepalive quota')));
    const kept = event();
    outbox.add([kept]);
    outbox.hide();
    await vi.advanceTimersByTimeAsync(0);
    expect(stored()).toEqual([kept.id]);
  });

  it('does not beacon at hide what this page has in flight', async () => {
    const beacon = vi.fn((_url: string, _body: string) => true);
    vi.stubGlobal('navigator', { sendBeacon: beacon });
    let answer: (response: Response) => void = () => {};
    vi.stubGlobal(
      'fetch',
      vi.fn(() => new Promise<Response>((resolve) => (answer = resolve))),
    );
    const outbox = createOutbox(config());
    outbox.add([event()]);
    const drained = outbox.drain();
    await vi.advanceTimersByTimeAsync(0);
    outbox.hide();
    expect(beacon).not.toHaveBeenCalled();
    answer(new Response(null, { status: 204 }));
    await drained;
    expect(stored()).toEqual([]);
  });

  it('keeps events in memory and sends them when storage throws', async () => {
    const { ids } = collector(204);
    const setItem = vi.spyOn(Storage.prototype, 'setItem').mockImplementation(() => {
      throw new DOMException('full', 'QuotaExceededError');
    });
    const outbox = createOutbox(config());
    const events = [event(), event()];
    expect(() => outbox.add(events)).not.toThrow();
    await outbox.drain();
    expect(ids()).toEqual(events.map((e) => e.id));
    setItem.mockRestore();
  });

  it('sends what another tab stored, and not what another tab already confirmed', async () => {
    const { ids } = collector(204);
    const outbox = createOutbox(config());
    const mine = event();
    const theirs = event();
    outbox.add([mine]);
    localStorage.setItem('tracklet:o:0000other', JSON.stringify([0, theirs]));
    const key = Object.keys(localStorage).find(
      (k) => k.startsWith('tracklet:o:') && !k.endsWith('other'),
    )!;
    await outbox.drain();
    expect(ids().sort()).toEqual([mine.id, theirs.id].sort());
    outbox.add([event()]);
    localStorage.removeItem(key);
    expect(stored()).toHaveLength(1);
  });
});
