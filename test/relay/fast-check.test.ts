/**
 * The compiled event check (fast-check.ts) against valibot itself: for every event it vouches for,
 * its output is valibot's (same keys, same order, same values); every event valibot refuses, it
 * leaves to valibot (so refusals keep valibot's words).
 */
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { compiledCheck, withinBounds } from '../../src/relay/fast-check';
import { BOUNDS, boundsProblem, checkEvent, eventSchema } from '../../src/relay/schema';

const common = {
  id: 'e1',
  timestamp: 1_000,
  anonymousId: 'a1',
  sessionId: 's1',
  url: 'https://shop.example/p?q=1',
  path: '/p',
};

/** One valid event of each known type, with optional fields and extra keys a newer tracker may add. */
const VALID: Record<string, unknown>[] = [
  { ...common, type: 'pageview', title: 'Home', referrer: '', status: 404, extra: { a: [1, 2] } },
  { type: 'event', ...common, name: 'buy', properties: { sku: 'A', price: 9.5, nested: { x: 1 } } },
  { ...common, type: 'identify', userId: 'u1', traits: { plan: 'pro' }, attribution: { utm: 'x' } },
  {
    ...common,
    type: 'vital',
    metricName: 'LCP',
    metricValue: 1200,
    rating: 'good',
    metricId: 'v1',
    navigationType: 'navigate',
  },
  { ...common, type: 'error', message: 'boom', errorType: 'TypeError', lineno: 3, count: 2 },
  {
    ...common,
    type: 'engagement',
    engagementTime: 12.5,
    scrollDepth: 100,
    interactionCount: 0,
    pageviewId: 'p1',
    userId: 'u2',
  },
];

/** Values that break one field or another: wrong types, out of range, too long, missing. */
const BAD_VALUES: unknown[] = [
  undefined,
  null,
  '',
  'x'.repeat(70_000),
  -1,
  1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  600,
  99,
  101,
  true,
  [],
  {},
  { ['k'.repeat(300)]: 1 },
  'not a picklist',
  'FID',
];

const valibot = (value: unknown) => {
  const result = v.safeParse(eventSchema, value, { abortEarly: true });
  return result.success ? result.output : undefined;
};

describe('the compiled event check', () => {
  const check = compiledCheck(eventSchema);

  it('vouches for every valid event with exactly valibot output, key order included', () => {
    for (const event of VALID) {
      const fast = check(event);
      expect(fast, String(event.type)).toBeDefined();
      expect(JSON.stringify(fast)).toBe(JSON.stringify(valibot(event)));
      // A copy, as valibot's: the stored event never shares objects with the request body.
      expect(fast).not.toBe(event);
    }
  });

  it('never vouches for an event valibot refuses, and agrees with it on each accepted one', () => {
    let refused = 0;
    for (const event of VALID)
      for (const key of [...Object.keys(event), 'properties', 'attribution', 'userId'])
        for (const bad of BAD_VALUES) {
          const mutated = { ...event, [key]: bad };
          if (bad === undefined) delete mutated[key];
          const expected = valibot(mutated);
          const fast = check(mutated);
          if (expected === undefined) {
            refused++;
            expect(fast, `${String(event.type)}.${key} = ${String(bad).slice(0, 20)}`).toBe(
              undefined,
            );
          } else if (fast !== undefined)
            expect(JSON.stringify(fast)).toBe(JSON.stringify(expected));
        }
    expect(refused).toBeGreaterThan(300);
  });

  it('leaves keys valibot drops (__proto__, constructor) and non-objects to valibot', () => {
    const event = JSON.parse(
      '{"type":"event","id":"e","timestamp":1,"anonymousId":"a","sessionId":"s","url":"u",' +
        '"path":"/","name":"n","properties":{"__proto__":{"x":1},"constructor":1,"ok":2}}',
    );
    expect(JSON.stringify(check(event))).toBe(JSON.stringify(valibot(event)));
    for (const value of [null, 'event', 3, [VALID[1]]]) expect(check(value)).toBeUndefined();
  });
});

describe('events of a type or metric the relay does not know', () => {
  const NOW = 1_000;
  it('are kept whole, fields in the order valibot gives them, or refused in valibot words', () => {
    const later = { ...common, type: 'purchase_v9', extra: { a: 1 }, userId: 'u' };
    expect(JSON.stringify(checkEvent(later, NOW, 0))).toBe(
      JSON.stringify({
        // The schema's fields first (userId is one of them, after sessionId), then the others.
        event: {
          id: 'e1',
          timestamp: 1_000,
          anonymousId: 'a1',
          sessionId: 's1',
          userId: 'u',
          url: common.url,
          path: '/p',
          type: 'purchase_v9',
          extra: { a: 1 },
        },
        known: false,
      }),
    );
    const metric = { ...VALID[3], metricName: 'NEW' };
    expect(checkEvent(metric, NOW, 0)).toEqual({ event: metric, known: false });
    expect(checkEvent({ ...later, type: 'bad type!' }, NOW, 0)).toEqual({
      problem: { field: 'type', message: 'letters, digits, _ . : - only' },
    });
    expect(checkEvent({ ...metric, rating: 'meh' }, NOW, 0)).toEqual({
      problem: {
        field: 'rating',
        message: expect.stringMatching(/^Invalid type: Expected \("good"/),
      },
    });
  });
});

describe('the bounds pre-check', () => {
  const nest = (depth: number): unknown => (depth ? { a: nest(depth - 1) } : 1);
  it('is true exactly within the bounds; past them boundsProblem still names the place', () => {
    const cases: [unknown, boolean][] = [
      // nest(n): n objects, the outermost at depth 0.
      [nest(BOUNDS.maxDepth + 1), true],
      [nest(BOUNDS.maxDepth + 2), false],
      [nest(BOUNDS.maxDepth + 3), false],
      [{ list: Array.from({ length: BOUNDS.maxItems }, () => 0) }, true],
      [{ list: Array.from({ length: BOUNDS.maxItems + 1 }, () => 0) }, false],
      [Object.fromEntries(Array.from({ length: BOUNDS.maxKeys }, (_, i) => [`k${i}`, i])), true],
      [
        Object.fromEntries(Array.from({ length: BOUNDS.maxKeys + 1 }, (_, i) => [`k${i}`, i])),
        false,
      ],
      [{ deep: [[[[[[[[[1]]]]]]]]] }, false],
      [{ deep: [[[[[[[[1]]]]]]]] }, true],
      [VALID[1], true],
    ];
    for (const [value, within] of cases) {
      expect(withinBounds(value, BOUNDS)).toBe(within);
      expect(boundsProblem(value) === undefined).toBe(within);
    }
    expect(boundsProblem(nest(BOUNDS.maxDepth + 2))?.field).toBe('a.a.a.a.a.a.a.a.a');
  });
});
