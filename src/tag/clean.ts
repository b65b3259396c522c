/**
 * Properties and traits made plain JSON before they are queued, written for size: one pass of the
 * JSON serialiser taken at load (a page's later patches and `toJSON`s do not reach it), with strings
 * and arrays cut at 1,000 characters and items, BigInts as text, no `__proto__`/`constructor`/
 * `prototype` key nor one over 256 characters; NaN and Infinity become null, dates ISO text,
 * functions and symbols are left out. Anything but an object, an object with a cycle, or one the
 * relay would refuse (over 200 keys in an object, objects nested deeper than 8 levels from the
 * event: `BOUNDS` in `relay/schema.ts`) is dropped whole with a warning. The npm build's sanitiser
 * for `set()` (`core/sanitize.ts`) caps them lower.
 */
import type { Properties } from '../types';
import { warn } from '../core/log';

const FORBIDDEN = '__proto__ constructor prototype'.split(' ');
/** JSON.parse as it was when Tracklet loaded (it needs no `this`), and JSON.stringify. */
export const { parse } = JSON;
const jsonStringify = JSON.stringify;

/**
 * JSON.stringify as it was when Tracklet loaded. The replacer returns the holder's own value, which
 * undoes any `toJSON` a page adds later (the serialiser calls `toJSON` first, then the replacer).
 */
export const stringify = (value: unknown): string =>
  // The replacer costs a call per value: only once a page added a `toJSON` where events reach it.
  [Object, Array, String, Number, Boolean].some((type) => 'toJSON' in type.prototype)
    ? jsonStringify(value, function (this: Record<string, unknown>, key) {
        return this[key];
      })
    : jsonStringify(value);
/**
 * Whether a value at `depth` in the event (the properties are at 1) is within the relay's bounds:
 * no object deeper than 8, none of over 200 keys. Arrays were cut at 1,000 items already.
 */
const fits = (value: any, depth: number): unknown =>
  typeof value != 'object' ||
  !value ||
  (depth < 9 &&
    (Array.isArray(value) || !Object.keys(value)[200]) &&
    Object.values(value).every((item) => fits(item, depth + 1)));

/** Properties or traits as plain JSON within the relay's bounds, or undefined with a warning. */
export const sanitize = (properties: unknown): Properties | undefined => {
  if (properties == null) return;
  // One try for both paths: a getter or a Proxy trap that throws drops the properties, not the event.
  try {
    // The usual properties, a few short strings, finite numbers and booleans, are copied as they are.
    if (properties.constructor == Object) {
      const copy: Record<string, unknown> = { ...properties };
      let plain = true;
      // Keys the relay takes in one object: past them, the other path refuses the properties.
      let room = 200;
      for (const key in copy) {
        const value = copy[key] as any;
        const type = typeof value;
        if (
          !(type == 'string'
            ? value.length <= 1000
            : type == 'number'
              ? value - value === 0
              : type == 'boolean' || value === null) ||
          FORBIDDEN.includes(key) ||
          key[256] ||
          !room--
        )
          plain = false;
      }
      if (plain) return copy as Properties;
    }
    if (typeof properties == 'object' && !Array.isArray(properties)) {
      const result = parse(
        jsonStringify(properties, function (this: Record<string, unknown>, key, value) {
          // The holder's own value: a `toJSON` added by the page is undone, a date's kept.
          if (!(this[key] instanceof Date)) value = this[key];
          // An array of ten million holes is cut before it is walked (it froze the page for seconds).
          return FORBIDDEN.includes(key) || key[256]
            ? undefined
            : typeof value == 'bigint'
              ? '' + value
              : typeof value == 'string' || Array.isArray(value)
                ? value.slice(0, 1000)
                : value;
        }),
      );
      if (fits(result, 1)) return result;
    }
  } catch {
    // A cycle, or a getter or trap that throws: dropped below.
  }
  warn('properties dropped:', properties);
};
