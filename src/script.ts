/**
 * The script-tag build: `<script defer src="tracklet.js" data-endpoint="…" data-site="…">`.
 * Reads the tag's data-* attributes, exposes `window.tracklet`, replays calls queued by the stub
 * snippet before the script loaded, and fetches the second file with the captures they leave on,
 * and the third (marketing.ts) for `init` without data-endpoint and the marketing features.
 */
import { fromAttributes } from './config';
import type { Capture, Context } from './core/contract';
import { warn } from './core/log';
import { safe } from './core/safe';
import {
  attach,
  consent,
  flush,
  getAnonymousId,
  getSessionId,
  identify,
  page,
  reset,
  start,
  track,
} from './index';

type Stub = ((...args: unknown[]) => unknown) & { q?: Iterable<unknown>[]; version?: string };

const VERSION = '0.1.0';
/**
 * Errors thrown, clicks made and keys pressed before the second file (with those captures) arrives,
 * handed to it then: a tagged button clicked right after the page loaded still counts.
 */
const early: Event[] = [];
const keep = (event: Event) => early.length < 100 && early.push(event);
/** What is kept: errors and rejections, clicks, pointer and key presses. */
const KEPT = ['error', 'unhandledrejection', 'click', 'auxclick', 'pointerdown', 'keydown'];

/** The second file, next to this one: web-vitals and the captures. */
const CAPTURES = 'tracklet.captures.js';
/** The third file: cross-domain linker, consent platforms, properties on every event, 404s and forms. */
const MARKETING = 'tracklet.marketing.js';
const global = window as unknown as { tracklet?: Stub };
const stub = global.tracklet;
const script = (document.currentScript || document.createElement('script')) as HTMLScriptElement;
/** Calls of methods this file does not have (`init`, `set`, `notFound`…), kept for the third file. */
const later: unknown[][] = [];
/** Whether the third file is fetched: unknown until the stub's calls are replayed. */
let fetched: boolean | undefined;

const load = (name: string, onerror?: () => void) => {
  const element = document.createElement('script');
  // Without a current script (an inlined copy) the page's address is the base: a URL, never a throw.
  element.src = new URL(name, script.src || (location as unknown as URL)).href;
  element.nonce = script.nonce;
  element.onerror = onerror as never;
  document.head.append(element);
};

/** Runs `fn` once the page has loaded and the browser is idle (at most 2 s later). */
const afterLoad = (fn: () => void) => {
  const idle = () => (self.requestIdleCallback || setTimeout)(fn, { timeout: 2000 } as never);
  if (document.readyState == 'complete') idle();
  else addEventListener('load', idle);
};

// The captures come in a second file, fetched once the page has loaded and the browser is idle, so
// that neither its bytes nor its start hold up the page or this file's pageview: web-vitals reads
// the buffered performance entries then, and errors thrown meanwhile are kept for it. Each capture
// attaches itself through `tracklet.attach`. Under `script-src 'self'` it loads like this file; if it
// fails to load, the captures are missing and everything else works. The page's nonce is passed on.
const loadCaptures: Capture = ({ config }) => {
  if (!(config.vitals || config.errors || config.clicks || config.engagement)) return;
  // Capture phase, so a page handler cannot hide a click (the error capture skips resource errors).
  // Every kind, whichever captures are on: the second file's captures take only their own kinds.
  KEPT.forEach((type) => addEventListener(type, keep, true));
  afterLoad(() => load(CAPTURES));
};

/**
 * Starts with the options of `tracklet('init', …)` (from the third file) under the tag's
 * attributes, and its captures.
 */
const go = (capture: Capture[] = [], options?: object) =>
  start(
    { ...options, ...fromAttributes(script), capture: [loadCaptures, ...capture] } as never,
    true,
  );

const api = {
  track,
  page,
  identify,
  flush,
  reset,
  getAnonymousId,
  getSessionId,
  consent,
  /**
   * Used by the second file: starts one of its captures, with the events kept until then (each
   * capture takes the ones of its kind).
   */
  attach: (capture: Capture) => {
    KEPT.forEach((type) => removeEventListener(type, keep, true));
    // Plain keys: the two files are minified apart, so a mangled name would differ between them.
    attach((context) => capture({ ...context, earlyErrors: early, early } as Context));
  },
  /** Used by the third file: its set-up, given the tag, the options, the kept calls and the start. */
  boot: (setup: Function) => setup(script, later, go, api),
};

// Pasted twice: the first copy runs, the second leaves it alone.
if (!stub?.version) {
  const tracklet: Stub = Object.assign(
    safe((method: unknown, ...args: unknown[]) => {
      const fn = api[method as keyof typeof api];
      if (fn) return (fn as (...a: unknown[]) => unknown)(...args);
      if (fetched == false) warn('unknown method', method);
      else if (later.length < 100) later.push([method, ...args]);
    }),
    api,
    { version: VERSION },
  );
  global.tracklet = tracklet;
  // The stub's queue is an array of `arguments` objects: both iterable.
  for (const args of stub?.q || []) tracklet(...args);
  // The third file starts the tracker when the tag has no data-endpoint (it waits for `tracklet('init', …)`),
  // or asks for a feature of it (props, not-found, forms, cross-domain, consent-source): so the first
  // pageview has them. If it fails to load, the start goes on without.
  // With an empty or bad data-endpoint, the tag warns and stays inert.
  (fetched =
    !script.hasAttribute('data-endpoint') ||
    /-(props|not-found|forms|cross-domain|consent-source)=/.test(script.outerHTML))
    ? load(MARKETING, () => go())
    : go();
}
