// What a call costs is kept low by reading shared state once per task and copying the usual
// properties without the full walk; these tests pin that nothing is lost doing so.
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
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

// track()'s later events of a task are built by one literal, its properties copied by spread and
// checked by for...in: these tests pin that the result is the same event.
describe('the later events of a task', () => {
  it('have the keys of the first, in the same order, and the same shared values', async () => {
    await Promise.resolve();
    tracker.track('first', { a: 1 });
    tracker.track('second', { b: 'x' });
    tracker.track('third');
    const [first, second, third] = emitted;
    const keys = (event: TrackletEvent) => Object.keys(event).filter((k) => k != 'attribution');
    expect(keys(second)).toEqual(keys(first));
    expect(Object.keys(third)).toEqual(keys(first));
    expect(keys(first)).toEqual([
      'id',
      'timestamp',
      'anonymousId',
      'sessionId',
      'url',
      'path',
      'type',
      'name',
      'properties',
    ]);
    for (const key of ['anonymousId', 'sessionId', 'url', 'path'] as const)
      expect(second[key]).toBe(first[key]);
    expect(second).toMatchObject({ type: 'event', name: 'second', properties: { b: 'x' } });
    expect(third).toMatchObject({ type: 'event', name: 'third', properties: undefined });
    expect(new Set([first.id, second.id, third.id]).size).toBe(3);
  });

  it('carry the user id, after the session id, once one is set', async () => {
    tracker.identify('user-1');
    await Promise.resolve();
    emitted.length = 0;
    tracker.track('one');
    tracker.track('two');
    for (const event of emitted) {
      expect(event.userId).toBe('user-1');
      expect(Object.keys(event).slice(3, 6)).toEqual(['sessionId', 'userId', 'url']);
    }
    tracker.reset();
  });

  it('are stamped with the clock of their own call', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(1_000_000);
      tracker.track('early');
      vi.setSystemTime(1_000_500);
      tracker.track('late');
      expect(emitted.map((event) => event.timestamp)).toEqual([1_000_000, 1_000_500]);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('event ids', () => {
  it('count up by one, with the same 12-character prefix', () => {
    const ids = Array.from({ length: 35 }, eventId);
    for (const [i, id] of ids.entries()) {
      expect(id).toMatch(/^[\w-]{12}\d{9}$/);
      expect(id.slice(0, 12)).toBe(ids[0].slice(0, 12));
      expect(+id.slice(12)).toBe(+ids[0].slice(12) + i);
    }
  });
});

describe('flat properties copied by spread', () => {
  it('are a copy: a later change of the page object does not reach the event', () => {
    const properties = { plan: 'pro', n: 2 };
    const copy = sanitize(properties)!;
    properties.plan = 'changed';
    expect(copy).toEqual({ plan: 'pro', n: 2 });
  });

  it('ignore enumerable keys added to Object.prototype by the page', () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto.polluted = 'x';
    try {
      const copy = sanitize({ a: 1 })!;
      expect(Object.keys(copy)).toEqual(['a']);
      expect(Object.hasOwn(copy, 'polluted')).toBe(false);
    } finally {
      delete proto.polluted;
    }
  });

  it('take the full rules for an own __proto__ key, NaN, or a long string', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const own = sanitize(JSON.parse('{"__proto__":{"x":1},"a":1}'))!;
      expect(Object.keys(own)).toEqual(['a']);
      expect(sanitize({ a: NaN, b: 1 })).toEqual({ a: null, b: 1 });
      expect(sanitize({ s: 'x'.repeat(1001) })!.s).toHaveLength(1000);
      expect(warn).toHaveBeenCalledTimes(3);
    } finally {
      warn.mockRestore();
    }
  });
});
