/**
 * Tracklet for npm: `init()` once, then `track()`, `page()`, `identify()`… from anywhere.
 * Calls made before `init()` are kept (up to 100) and replayed once it runs.
 */
import { resolveOptions } from './config';
import type { Capture, TrackletOptions } from './core/contract';
import { log } from './core/log';
import { safe } from './tag/safe';
import { createTracker, type Tracker } from './tracker';
import { props, setProps } from './capture/props';
import { markNotFound, notFound as notFoundCapture } from './capture/notfound';
import type { Properties } from './types';

export type { Capture, TrackletOptions } from './core/contract';
export type { ClickOptions } from './capture/clicks';
export type { ErrorOptions } from './capture/errors';
/** Capture modules for `init({ capture: [...] })`; what is not imported is not bundled. */
export { vitals } from './capture/vitals';
export { errors } from './capture/errors';
export { clicks } from './capture/clicks';
export { engagement } from './capture/engagement';
/**
 * Marketing captures (docs/marketing.md): properties on every event, 404s, forms, cross-domain
 * linker, consent platforms.
 */
export { props } from './capture/props';
export { notFound as notFoundCapture } from './capture/notfound';
export { forms } from './capture/forms';
export { crossDomain } from './capture/crossdomain';
export { gcm } from './consent/gcm';
export { tcf } from './consent/tcf';
export type { Context } from './core/contract';
export type * from './types';
/**
 * Tracklet's standard commerce events: `track(COMMERCE_EVENTS.purchase, properties)`, typed by
 * `CommerceProperties`.
 */
export { COMMERCE_EVENTS } from './commerce';
export type * from './commerce';

let tracker: Tracker | undefined;
let started = false;
/** The tracker's methods the API forwards to (`stop()` is the tests' own). */
type Method = Exclude<keyof Tracker, 'stop'>;
const pending: [Method, unknown[]][] = [];

/**
 * A public method: forwards the call to the tracker, or keeps it until `init()` when there is none
 * yet. Never throws into the page (one layer, as `safe()` would wrap it: this runs on every call).
 */
const forward =
  <K extends Method>(method: K) =>
  // Two fixed arguments (no method takes more): no rest array or spread call per call.
  (a?: unknown, b?: unknown): ReturnType<Tracker[K]> | undefined => {
    try {
      if (tracker) return (tracker[method] as (...a: unknown[]) => ReturnType<Tracker[K]>)(a, b);
      if (!started && pending.length < 100) pending.push([method, [a, b]]);
    } catch (error) {
      if (DEBUG) log('internal error', error);
    }
  };

/** @internal Starts the tracker once. */
export const start = safe((options: TrackletOptions): boolean => {
  if (started) return false;
  started = true;
  const config = resolveOptions(options as unknown as Record<string, unknown>);
  if (config) tracker = createTracker(config);
  for (const [method, args] of pending.splice(0))
    (forward(method) as (...a: unknown[]) => unknown)(...args);
  return !!tracker;
});

/** Starts Tracklet. Options are validated: a bad one is named in a console warning and nothing is tracked. */
export const init = (options: TrackletOptions): boolean =>
  // Captures asked for by `set()` / `notFound()` before init run with the others, before the first pageview.
  !!start({ ...options, capture: [...(options?.capture || []), ...early] });

/** Sends a custom event `name` with optional properties. */
export const track = /* @__PURE__ */ forward('track') as (
  name: string,
  properties?: Properties,
) => void;
/** Sends a pageview of the current URL (automatic ones are sent for you). */
export const page = /* @__PURE__ */ forward('page') as (properties?: Properties) => void;
/** Attaches a user id (and traits) to this and every later event. */
export const identify = /* @__PURE__ */ forward('identify') as (
  userId: string,
  traits?: Properties,
) => void;
/** Hands every queued event to the network; resolves when that is done (await it before a redirect). */
export const flush = (): Promise<void> => forward('flush')() || Promise.resolve();
/** Forgets the visitor: new anonymous id and session, no user id. */
export const reset = /* @__PURE__ */ forward('reset') as () => void;
/** The visitor's anonymous id (undefined before `init()`). */
export const getAnonymousId = /* @__PURE__ */ forward('getAnonymousId') as () => string | undefined;
/**
 * Records the visitor's consent choice (remembered across pages). `true` sends the events that
 * waited for it (`consent: 'required'`); `false` drops them, clears Tracklet's storage and stops tracking.
 */
export const consent = /* @__PURE__ */ forward('consent') as (granted: boolean) => void;
/** @internal Starts a capture that arrived after `init()` (the script tag's second file). */
export const attach = /* @__PURE__ */ forward('attach') as (capture: Capture) => void;
/** The current session id (undefined before `init()`). */
export const getSessionId = /* @__PURE__ */ forward('getSessionId') as () => string | undefined;

/** Whether the capture behind `set()` / `notFound()` was handed to the tracker (once each). */
const added = { props: false, notFound: false };
/** Those captures while `init()` has not run. */
const early: Capture[] = [];
const add = (capture: Capture) => (started ? attach(capture) : early.push(capture));

/**
 * Adds properties to every later event of the page (under each event's own; `null` removes a key).
 * Before `init()`, the first pageview has them.
 */
export const set = /* @__PURE__ */ safe((properties: Properties): void => {
  setProps(properties);
  if (!added.props) ((added.props = true), add(props()));
}) as (properties: Properties) => void;

/** Marks this page as not found: its pageview carries `status: 404` (call it before `init()`, or before `page()`). */
export const notFound = /* @__PURE__ */ safe((): void => {
  markNotFound();
  if (!added.notFound) ((added.notFound = true), add(notFoundCapture()));
}) as () => void;
