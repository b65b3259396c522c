/**
 * Properties on every event: `data-props='{"plan":"pro"}'` on the tag, `tracklet('set', {…})`, or
 * `set()` and the `props()` capture on npm. They go under each event's own properties (the event's
 * own value wins on a shared key); they are sanitised like properties when they are set.
 */
import type { Capture } from '../core/contract';
import type { Properties } from '../types';
import { parse, sanitize } from '../core/sanitize';
import { warn } from '../core/log';
import { beforeEach } from './decorate';

/** The properties every event of this page gets. */
let shared: Properties = {};

/**
 * Adds properties to every later event of the page (merged into what was set before); a key set
 * to `null` is removed. Sanitised as event properties are; anything but an object is refused.
 */
export const setProps = (properties: unknown): void => {
  const clean = sanitize(properties);
  if (!clean) return;
  shared = { ...shared };
  for (const key in clean) {
    if (clean[key] === null) delete shared[key];
    else shared[key] = clean[key];
  }
};

/** The properties set so far (a copy). */
export const getProps = (): Properties => ({ ...shared });

/** Forgets every property set (tests, and a page that tears Tracklet down). */
export const clearProps = (): void => {
  shared = {};
};

/** `data-props` → its object; warns and gives undefined when it is not a JSON object. */
export const parseProps = (text: string | null | undefined): unknown => {
  if (text == null || text == '') return undefined;
  try {
    const value = parse(text);
    if (value && typeof value == 'object' && !Array.isArray(value)) return value;
  } catch {
    // Reported below.
  }
  warn('data-props is', JSON.stringify(text), ': expected a JSON object, ignored');
};

/**
 * The capture that adds the shared properties to every event, `initial` set first. Only events
 * passing the gate get them, after scrubbing; the page's `beforeSend` sees them.
 */
export const props =
  (initial?: unknown): Capture =>
  ({ config }) => {
    if (initial !== undefined) setProps(initial);
    return beforeEach(config, (event) => {
      let any = false;
      for (const _ in shared) any = true;
      if (any) event.properties = { ...shared, ...event.properties };
    });
  };
