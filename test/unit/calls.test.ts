// What a call costs is kept low by reading shared state once per task and copying the usual
// properties without the full walk; these tests pin that nothing is lost doing so.
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config';
import { eventId } from '../../src/core/id';
import { sanitize } from '../../src/core/sanitize';
import { createTracker } from '../../src/tracker';
import type { TrackletEvent } from '../../src/types';

const emitted: TrackletEvent[] = [];
let tracker: ReturnType<typeof createTracker>;

beforeAll(() => {
  localStorage.clear();
  Object.defineProperty(navigator, 'sendBeacon', { value: () => true, configurable: true });
  const config = resolveConfig(
    {
      endpoint: '/c',
      site: 's',
      flushInterval: 0,
      includeLocal: true,
      autoPageview: false,
      beforeSend: (event: TrackletEvent) => (emitted.push(event), event),
    },
    false,
  )!;
  tracker = createTracker(config);
});
beforeEach(() => {
  emitted.length = 0;
});

describe('event ids', () => {
  it('gives 100,000 events distinct URL-safe ids of 21 characters', () => {
    const ids = Array.from({ length: 100_000 }, eventId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of [ids[0], ids[99_999]]) expect(id).toMatch(/^[\w-]{21}$/);
  });
});

describe('ids read once per task', () => {
  it('gives the events after reset() in the same task a new visitor and session', () => {
    tracker.track('before');
    tracker.reset();
    tracker.track('after');
    const [before, after] = emitted;
    expect(after.anonymousId).not.toBe(before.anonymousId);
    expect(after.sessionId).not.toBe(before.sessionId);
    expect(after.anonymousId).toBe(tracker.getAnonymousId());
  });

  it('gives the events after a denial and a new grant in the same task new ids', () => {
    tracker.track('before');
    tracker.consent(false);
    tracker.consent(true);
    tracker.track('after');
    const before = emitted.find((event) => event.type == 'event' && event.name == 'before')!;
    const after = emitted.find((event) => event.type == 'event' && event.name == 'after')!;
    expect(after.anonymousId).not.toBe(before.anonymousId);
    expect(after.sessionId).not.toBe(before.sessionId);
  });

  it('reads the ids afresh in the next task, as another tab may have changed them', async () => {
    tracker.track('one');
    localStorage.setItem('tracklet:aid', 'from-another-tab');
    await Promise.resolve();
    tracker.track('two');
    expect(emitted.map((event) => event.anonymousId)).toEqual([
      expect.not.stringMatching('from-another-tab'),
      'from-another-tab',
    ]);
  });
});

describe('the usual properties', () => {
  it('are copied: changing the object after the call does not change the event', () => {
    const properties: Record<string, unknown> = {
      plan: 'pro',
      seats: 3,
      trial: false,
      coupon: null,
    };
    tracker.track('copied', properties as never);
    properties.plan = 'free';
    properties.extra = 1;
    expect((emitted[0] as { properties?: unknown }).properties).toEqual({
      plan: 'pro',
      seats: 3,
      trial: false,
      coupon: null,
    });
  });

  it.each([
    ['an own constructor key', JSON.parse('{"constructor":1,"ok":2}'), { ok: 2 }],
    ['a __proto__ key', JSON.parse('{"__proto__":{"admin":true},"ok":2}'), { ok: 2 }],
    ['a nested object', { a: { b: 1 } }, { a: { b: 1 } }],
    ['NaN', { a: NaN, b: 1 }, { a: null, b: 1 }],
    ['a long string', { s: 'x'.repeat(1005) }, { s: 'x'.repeat(1000) }],
  ])('go by the full rules when they hold %s', (_, input, expected) => {
    expect(sanitize(input)).toEqual(expected);
  });
});
