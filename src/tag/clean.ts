/**
 * Properties and traits made plain JSON before they are queued, written for size: one pass of the
 * JSON serialiser taken at load (a page's later patches and `toJSON`s do not reach it), with strings
 * cut at 1,000 characters, BigInts as text, no `__proto__`/`constructor`/`prototype` key; NaN and
 * Infinity become null, dates ISO text, functions and symbols are left out. Anything but an object,
 * or an object with a cycle, is dropped whole with a warning. The npm build's sanitiser
 * (`core/sanitize.ts`) also caps keys, items and depth; here the 32 KiB limit per event bounds them.
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
export const sanitize = (properties: unknown): Properties | undefined => {
  if (properties == null) return;
  // One try for both paths: a getter or a Proxy trap that throws drops the properties, not the event.
  try {
    // The usual properties, a few short strings, finite numbers and booleans, are copied as they are.
    if (properties.constructor == Object) {
      const copy: Record<string, unknown> = { ...properties };
      let plain = true;
      for (const key in copy) {
        const value = copy[key] as any;
        const type = typeof value;
        if (
          !(type == 'string'
            ? value.length <= 1000
            : type == 'number'
              ? value - value === 0
              : type == 'boolean' || value === null) ||
          FORBIDDEN.includes(key)
        )
          plain = false;
      }
      if (plain) return copy as Properties;
    }
    if (typeof properties == 'object' && !Array.isArray(properties))
      return parse(
        jsonStringify(properties, function (this: Record<string, unknown>, key, value) {
          // The holder's own value: a `toJSON` added by the page is undone, a date's kept.
          if (!(this[key] instanceof Date)) value = this[key];
          return FORBIDDEN.includes(key)
            ? undefined
            : typeof value == 'bigint'
              ? '' + value
              : typeof value == 'string'
                ? value.slice(0, 1000)
                : value;
        }),
      );
  } catch {
    // A cycle, or a getter or trap that throws: dropped below.
  }
  warn('properties dropped:', properties);
};
