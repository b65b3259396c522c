import type { Properties, PropertyValue } from '../types';
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
  jsonStringify(value, function (this: Record<string, unknown>, key) {
    return this[key];
  });

/** Limits of the sanitiser (documented in docs/delivery.md). */
export const LIMITS = { depth: 5, keys: 50, items: 100, string: 1000 };

/**
 * Turns one value into a JSON value by the documented rules, noting each repair in `problems`.
 * Returns undefined for a value to drop. `ancestors` holds the objects above, to spot cycles.
 */
const clean = (value: unknown, key: string, problems: string[], ancestors: object[]): PropertyValue | undefined => {
  const type = typeof value;
  if (type == 'string') {
    if ((value as string).length <= LIMITS.string) return value as string;
    problems.push(key + ': string cut to ' + LIMITS.string);
    return (value as string).slice(0, LIMITS.string);
  }
  if (type == 'number' || type == 'bigint') {
    if (Number.isFinite(value)) return value as number;
    problems.push(key + ': ' + type + (type == 'bigint' ? ' to string' : ' ' + value + ' to null'));
    return type == 'bigint' ? String(value) : null;
  }
  if (type == 'boolean' || value === null) return value as boolean | null;
  if (value instanceof Date) return isNaN(+value) ? null : value.toISOString();
  if (type != 'object' || ancestors.includes(value as object) || ancestors.length > LIMITS.depth) {
    problems.push(key + ': ' + (type != 'object' ? type : ancestors.length > LIMITS.depth ? 'too deep' : 'circular') + ' dropped');
    return;
  }
  ancestors.push(value as object);
  let result: PropertyValue;
  if (Array.isArray(value)) {
    if (value.length > LIMITS.items) problems.push(key + ': array cut to ' + LIMITS.items);
    result = Array.from(value.slice(0, LIMITS.items), (item) => clean(item, key + '[]', problems, ancestors) ?? null);
  } else {
    const names = Object.keys(value as object);
    const object: Record<string, PropertyValue> = (result = {});
    if (names.length > LIMITS.keys) problems.push(key + ': keys cut to ' + LIMITS.keys);
    for (const name of names.slice(0, LIMITS.keys)) {
      // Keys that could reach an object's prototype in the collector's code.
      if (name == '__proto__' || name == 'constructor' || name == 'prototype') problems.push(name + ' dropped');
      else {
        const item = clean((value as Record<string, unknown>)[name], name, problems, ancestors);
        if (item !== undefined) object[name] = item;
      }
    }
  }
  ancestors.pop();
  return result;
};

/**
 * Repairs user-supplied properties (or traits) into plain JSON before they are queued; warns once
 * per call naming what was repaired or dropped. Anything but a plain object is dropped whole.
 */
export const sanitize = (properties: unknown): Properties | undefined => {
  if (properties == null) return;
  const problems: string[] = [];
  let result: Properties | undefined;
  if (typeof properties == 'object' && !Array.isArray(properties)) result = clean(properties, '', problems, []) as Properties;
  else problems.push('not an object, dropped');
  if (problems.length) warn('properties repaired:', problems.join(', '));
  return result;
};
