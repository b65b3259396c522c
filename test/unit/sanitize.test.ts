import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  MAX_DEPTH,
  MAX_ITEMS,
  MAX_KEYS,
  MAX_STRING,
  sanitize,
  stringify,
} from '../../src/core/sanitize';

const LIMITS = { depth: MAX_DEPTH, keys: MAX_KEYS, items: MAX_ITEMS, string: MAX_STRING };

const circular: Record<string, unknown> = { a: 1 };
circular.self = circular;
const shared = { x: 1 };
// Five levels below the properties are kept, the sixth is dropped.
const deep = (levels: number): unknown => (levels ? { d: deep(levels - 1) } : 'leaf');
const many = Object.fromEntries(Array.from({ length: LIMITS.keys + 5 }, (_, i) => ['k' + i, i]));
const sparse = [1, , 3]; // eslint-disable-line no-sparse-arrays

let warn: ReturnType<typeof vi.spyOn>;
beforeEach(() => {
  warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
});
afterEach(() => vi.restoreAllMocks());

describe('sanitize', () => {
  it.each([
    [
      'keeps JSON values',
      { s: 'x', n: 1.5, b: false, z: null, a: [1, 'two'], o: { p: 1 } },
      { s: 'x', n: 1.5, b: false, z: null, a: [1, 'two'], o: { p: 1 } },
      false,
    ],
    [
      'turns a Date into an ISO string',
      { at: new Date(0) },
      { at: '1970-01-01T00:00:00.000Z' },
      false,
    ],
    ['turns an invalid Date into null', { at: new Date(NaN) }, { at: null }, false],
    [
      'turns NaN and Infinity into null',
      { a: NaN, b: Infinity, c: -Infinity },
      { a: null, b: null, c: null },
      true,
    ],
    [
      'turns a BigInt into its decimal string',
      { big: 12345678901234567890n },
      { big: '12345678901234567890' },
      true,
    ],
    [
      'drops functions, symbols and undefined',
      { f: () => 1, s: Symbol('s'), u: undefined, ok: 1 },
      { ok: 1 },
      true,
    ],
    [
      'turns them into null inside arrays',
      { a: [() => 1, undefined, 2] },
      { a: [null, null, 2] },
      true,
    ],
    ['fills holes of sparse arrays with null', { a: sparse }, { a: [1, null, 3] }, false],
    ['drops a circular reference', circular, { a: 1 }, true],
    [
      'keeps an object referenced twice (not a cycle)',
      { one: shared, two: shared },
      { one: { x: 1 }, two: { x: 1 } },
      false,
    ],
    [
      'drops __proto__, constructor and prototype keys',
      JSON.parse('{"__proto__":{"admin":true},"constructor":1,"prototype":2,"ok":3}'),
      { ok: 3 },
      true,
    ],
    [
      'drops what is nested deeper than the limit',
      { top: deep(10) },
      { top: { d: { d: { d: { d: {} } } } } },
      true,
    ],
    [
      'cuts strings longer than the limit',
      { s: 'x'.repeat(LIMITS.string + 10) },
      { s: 'x'.repeat(LIMITS.string) },
      true,
    ],
    [
      'cuts arrays longer than the limit',
      { a: Array(LIMITS.items + 10).fill(0) },
      { a: Array(LIMITS.items).fill(0) },
      true,
    ],
    [
      'keeps the first keys of an object with too many',
      many,
      Object.fromEntries(Object.entries(many).slice(0, LIMITS.keys)),
      true,
    ],
    [
      'reads a Map or class instance by its own enumerable keys',
      {
        m: new Map([[1, 2]]),
        c: new (class {
          v = 1;
        })(),
      },
      { m: {}, c: { v: 1 } },
      false,
    ],
  ])('%s', (_, input, expected, warns) => {
    const result = sanitize(input);
    expect(result).toEqual(expected);
    expect(JSON.parse(JSON.stringify(result))).toEqual(expected);
    expect(warn).toHaveBeenCalledTimes(warns ? 1 : 0);
  });

  it.each([
    ['a string', 'x'],
    ['an array', [1]],
    ['a number', 3],
    ['a function', () => 1],
  ])('refuses %s as properties, with a warning', (_, input) => {
    expect(sanitize(input)).toBeUndefined();
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('returns nothing for no properties', () => {
    expect(sanitize(undefined)).toBeUndefined();
    expect(sanitize(null)).toBeUndefined();
    expect(warn).not.toHaveBeenCalled();
  });

  it(
    'serialises with the JSON of load time, ignoring a page ' +
      'that patched JSON.stringify or Array.prototype.toJSON',
    () => {
      const original = JSON.stringify;
      JSON.stringify = () => {
        throw new Error('patched');
      };
      (Array.prototype as unknown as { toJSON: () => string }).toJSON = () => 'broken';
      try {
        expect(stringify({ a: [1, 2], d: { b: [true] } })).toBe('{"a":[1,2],"d":{"b":[true]}}');
      } finally {
        JSON.stringify = original;
        delete (Array.prototype as unknown as { toJSON?: unknown }).toJSON;
      }
    },
  );
});
