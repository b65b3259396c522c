/**
 * The script tag's first file, `tracklet.js`: `<script defer src="tracklet.js" data-endpoint="…"
 * data-site="…">`. Reads the tag's data-* attributes, exposes `window.tracklet`, replays the calls
 * the stub queued before it loaded, and fetches the second file (web-vitals and the captures) once
 * the page has loaded, and the third (`marketing.ts`) before the start for `tracklet('init')` and
 * the rarer options (exclude, sampling). Written for size: the tracker it starts is `tag/tracker.ts`,
 * not the npm build's `tracker.ts`; both keep the same stored keys and formats.
 */
import type { Capture, Context } from './core/contract';
import { resolveConfig } from './config';
import { setDebug, warn } from './core/log';
import { drop } from './core/stats';
import { safe } from './tag/safe';
import { createTracker, type Methods, type TagConfig } from './tag/tracker';

type Stub = ((...args: unknown[]) => unknown) & { q?: Iterable<unknown>[]; version?: string };

/**
 * Errors thrown, clicks made and keys pressed before the second file (with those captures) arrives,
 * handed to it then: a tagged button clicked right after the page loaded still counts.
 */
const early: Event[] = [];
const keep = (event: Event) => early.length < 100 && early.push(event);
const KEPT = 'error unhandledrejection click auxclick pointerdown keydown'.split(' ');

const global = window as unknown as { tracklet?: Stub };
const stub = global.tracklet;
const script = (document.currentScript || document.createElement('script')) as HTMLScriptElement;
/** Calls of methods this file does not have (`init`, `set`, `notFound`…), kept for the third file. */
const later: unknown[][] = [];
/** Whether the third file is fetched: unknown until the stub's calls are replayed. */
let fetched: boolean | undefined;
/** The tracker once started with a valid config; calls before the start wait (up to 100). */
let tracker: Methods | undefined;
let started = false;
const pending: [string, unknown?, unknown?][] = [];
/** Calls dropped before the start, over the 100 kept (here, or for the third file): warned about once. */
let over = 0;

const load = (name: string, onerror?: () => void) => {
  const element = document.createElement('script');
  // Without a current script (an inlined copy) the page's address is the base: a URL, never a throw.
  element.src = new URL(name, script.src || (location as unknown as URL)).href;
  element.nonce = script.nonce;
  element.onerror = onerror as never;
  document.head.append(element);
};

// The captures come in a second file, fetched once the page has loaded and the browser is idle (at
// most 2 s later): web-vitals reads the buffered performance entries then, and errors, clicks and
// keys meanwhile are kept for it. If it fails to load, everything else works.
const loadCaptures: Capture = ({ config }) => {
  if (!(config.vitals || config.errors || config.clicks || config.engagement)) return;
  // Capture phase, so a page handler cannot hide a click.
  KEPT.forEach((type) => addEventListener(type, keep, true));
  const idle = () =>
    (self.requestIdleCallback || setTimeout)(() => load('tracklet.captures.js'), {
      timeout: 2000,
    } as never);
  if (document.readyState == 'complete') idle();
  else addEventListener('load', idle);
};

/** The first file's number options: `[name, default, min, max]` (inclusive). */
const NUMBERS = [
  ['batchSize', 10, 1, 100],
  ['flushInterval', 5000, 0, 3_600_000],
  ['sessionTimeout', 30, 1, 1440],
  ['outboxMaxEvents', 1000, 1, 100_000],
  ['outboxMaxBytes', 524288, 65_536, 4_194_304],
  ['outboxMaxAge', 7, 1, 365],
] as const;

/** The first file's boolean options: the first two default to false, the others to true. */
const BOOLEANS = 'debug includeLocal autoPageview scrub vitals errors clicks engagement'.split(' ');

/**
 * The options: the tag's `data-*` attributes (`data-batch-size` → `batchSize`) over those of
 * `tracklet('init', …)`. The first file's own are typed here; the other files type theirs.
 */
const configOf = (captures: Capture[], options?: object): TagConfig => {
  // The browser names the attributes as options: `data-batch-size` → `batchSize`.
  const config: Record<string, any> = { ...options, ...script.dataset };
  // An attribute is text: `data-before-send` or `data-filter` never stands in for a function.
  for (const key of 'beforeSend filter encode gzip zip'.split(' '))
    if (typeof config[key] != 'function') delete config[key];
  config.capture = [loadCaptures, ...captures];
  for (const [key, fallback, min, max] of NUMBERS) {
    const value = config[key];
    // A number out of its range, or no number at all, is repaired to the default with a warning:
    // `data-outbox-max-age="7d"` must neither expire every stored event nor lift the cap.
    let number = value == null || value === '' ? fallback : +value;
    if (!(number >= min && number <= max))
      warn(key, value, 'is invalid: using', (number = fallback));
    config[key] = number;
  }
  BOOLEANS.forEach((key, index) => {
    const value = config[key];
    config[key] = value == null ? index > 1 : value === true || value === '' || value == 'true';
  });
  return config as TagConfig;
};

/** Whether the options name an http(s) collector URL and a site; warns once otherwise. */
const valid = ({ endpoint, site }: TagConfig) => {
  try {
    if (site && endpoint && /^http/.test(new URL(endpoint, location.href).protocol)) return true;
  } catch {
    // Not a URL: refused below.
  }
  warn('data-endpoint', endpoint, 'and data-site', site, 'are needed: tracking is off');
};

/**
 * Starts with the options of `tracklet('init', …)` (from the third file) under the tag's
 * attributes, and the third file's captures. False when started already.
 */
const go = (captures: Capture[] = [], options?: object) => {
  if (started) return false;
  started = true;
  const config = configOf(captures, options);
  setDebug(config.debug);
  // The debug build validates every option, with details; the production build the two required.
  if (DEBUG ? resolveConfig({ ...config }, true) : valid(config)) tracker = createTracker(config);
  for (const [method, a, b] of pending.splice(0)) call(method, a, b);
  return !!tracker;
};

// Two fixed arguments (no method takes more): no rest array or spread per call.
const call = (method: string, a?: unknown, b?: unknown) => {
  if (tracker) return tracker[method](a, b);
  if (!started)
    pending.length < 100
      ? pending.push([method, a, b])
      : (drop(1, DEBUG && 'over 100 calls before the start'),
        over++ || warn('over 100 calls before the start: dropped'));
};

const api: Record<string, Function> = {
  /** Used by the third file: its set-up, given the tag, the kept calls, the start and this API. */
  boot: (setup: Function) => setup(script, later, go, api),
};
for (const method of 'track page identify flush reset getAnonymousId getSessionId consent'.split(
  ' ',
))
  api[method] = (a?: unknown, b?: unknown) => {
    // One try per call, as safe() would wrap it: this runs on every call.
    try {
      return call(method, a, b);
    } catch (error) {
      if (DEBUG) warn('internal error', error);
    }
  };
const flush = api.flush;
api.flush = () => flush() || Promise.resolve();
/**
 * Used by the second file: starts one of its captures, with the events kept until then (each
 * capture takes the ones of its kind). Plain keys: the files are minified apart. No try: the
 * tracker's attach() runs the capture contained.
 */
api.attach = (capture: Capture) => {
  KEPT.forEach((type) => removeEventListener(type, keep, true));
  call('attach', (context: Context) =>
    capture({ ...context, earlyErrors: early, early } as Context),
  );
};

// Pasted twice: the first copy runs, the second leaves it alone.
if (!stub?.version) {
  const tracklet: Stub = Object.assign(
    safe((method: unknown, ...args: unknown[]) => {
      const fn = api[method as string];
      if (fn) return fn(...args);
      if (fetched == false) warn('unknown method', method);
      else if (later.length < 100) later.push([method, ...args]);
      else
        (drop(1, DEBUG && 'over 100 calls before the start'),
          over++ || warn('over 100 calls before the start: dropped'));
    }),
    api,
    { version: '0.1.0' },
  );
  global.tracklet = tracklet;
  // The stub's queue is an array of `arguments` objects. A page's junk (a queue that is no array,
  // an item that is no list of arguments, a getter that throws) is skipped, never thrown into it.
  stub?.q?.forEach?.(safe((args: Iterable<unknown>) => tracklet(...args)));
  // The third file starts the tracker when the tag has no data-endpoint (it waits for
  // `tracklet('init', …)`), or uses one of its features or rarer options, so that the first pageview
  // has them. If it fails to load, the start goes on without.
  (fetched =
    !('endpoint' in script.dataset) ||
    /-(props|not-found|forms|cross-domain|consent-source|exclude|sample-rate)=/.test(
      script.outerHTML,
    ))
    ? load('tracklet.marketing.js', () => go())
    : go();
}
