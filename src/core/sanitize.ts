import type { Properties } from '../types';
import { warn } from './log';

// Taken at load: a page that later patches JSON (or gives arrays a `toJSON`) cannot corrupt bodies.
const { parse: jsonParse, stringify: jsonStringify } = JSON;

/** JSON.parse as it was when Tracklet loaded. */
export const parse = (text: string): any => jsonParse(text);

/**
 * JSON.stringify as it was when Tracklet loaded. The replacer returns the holder's own value, which
 * undoes any `toJSON` (the spec calls `toJSON` first, then the replacer with the holder as `this`).
 */
export const stringify = (value: unknown): string =>
  // The replacer costs a call per value: it is only needed once a page added a `toJSON`.
  PROTOTYPES.some((prototype) => 'toJSON' in prototype)
    ? jsonStringify(value, function (this: Record<string, unknown>, key) {
        return this[key];
      })
    : jsonStringify(value);

/** Where a page's `toJSON` would reach the values of a sanitised event. */
const PROTOTYPES = [Object, Array, String, Number, Boolean].map((type) => type.prototype);

/** Limits of the sanitiser (documented in the README, "Property sanitising"). */
export const MAX_DEPTH = 5;
export const MAX_KEYS = 50;
export const MAX_ITEMS = 100;
export const MAX_STRING = 1000;

/** Keys that reach an object's prototype in careless collector code. */
const FORBIDDEN = ['__proto__', 'constructor', 'prototype'];

/**
 * Turns one value into a JSON value by the documented rules, noting in `problems` the key of each
 * value repaired or dropped. Returns undefined to drop. `ancestors` are the objects above (cycles).
 * The usual values (short strings, finite numbers, booleans) return first: this runs on every call.
 */
const clean = (value: any, key: string, problems: string[], ancestors: object[]): any => {
  const type = typeof value;
  // Kept as it is: a string of at most MAX_STRING characters, a finite number (`x - x` is 0 for
  // those only), a boolean, null. Written out, as in sanitize(), where it runs on every call.
  if (
    type == 'string'
      ? value.length <= MAX_STRING
      : type == 'number'
        ? value - value === 0
        : type == 'boolean' || value === null
  )
    return value;
  if (value instanceof Date) return isNaN(value as never) ? null : value.toISOString();
  let result: any;
  if (type == 'object' && !ancestors.includes(value) && ancestors.length <= MAX_DEPTH) {
    ancestors.push(value);
    const names = Object.keys(value);
    if (names.length > MAX_KEYS || value.length > MAX_ITEMS) problems.push(key);
    if (Array.isArray(value))
      result = Array.from(
        value.slice(0, MAX_ITEMS),
        (item) => clean(item, key, problems, ancestors) ?? null,
      );
    else {
      result = {};
      for (const name of names.slice(0, MAX_KEYS)) {
        const item = FORBIDDEN.includes(name)
          ? problems.push(name) && undefined
          : clean(value[name], name, problems, ancestors);
        if (item !== undefined) result[name] = item;
      }
    }
    ancestors.pop();
    return result;
  }
  // Repaired (a long string, NaN or Infinity, a BigInt) or dropped (a function, a symbol, a cycle, too deep).
  if (type == 'string') result = value.slice(0, MAX_STRING);
  else if (type == 'number') result = null;
  else if (type == 'bigint') result = '' + value;
  if (value !== undefined) problems.push(key);
  return result;
};

/**
 * Repairs user-supplied properties (or traits) into plain JSON before they are queued; warns once
 * per call naming the keys repaired or dropped. Anything but a plain object is dropped whole.
 */
export const sanitize = (properties: unknown): Properties | undefined => {
  // The usual properties, a few keys of short strings, numbers and booleans, are copied as they are.
  if (properties?.constructor == Object) {
    // One copy by spread (a single step, in key order), then checked by for…in (no key list); the
    // copy is plain, so for…in walks its own keys.
    const copy: Properties = { ...(properties as Properties) };
    let i = 0;
    for (const name in copy) {
      const value = copy[name];
      const type = typeof value;
      // The values clean() keeps as they are, tested without a call per value.
      if (
        i++ >= MAX_KEYS ||
        FORBIDDEN.includes(name) ||
        !(type == 'string'
          ? (value as string).length <= MAX_STRING
          : type == 'number'
            ? (value as number) - (value as number) === 0
            : type == 'boolean' || value === null)
      )
        return sanitizeAll(properties);
    }
    return copy;
  }
  return sanitizeAll(properties);
};

const sanitizeAll = (properties: unknown): Properties | undefined => {
  const problems: string[] = [];
  const result =
    properties && typeof properties == 'object' && !Array.isArray(properties)
      ? clean(properties, '', problems, [])
      : undefined;
  if (!result && properties != null) problems.push('properties');
  if (problems.length) warn('repaired or dropped:', problems.join());
  return result;
};
