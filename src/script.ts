/**
 * The script-tag build: `<script defer src="tracklet.js" data-endpoint="…" data-site="…">`.
 * Reads the tag's data-* attributes, exposes `window.tracklet`, replays calls queued by the stub
 * snippet before the script loaded, and fetches the second file with the captures they leave on.
 */
import { fromAttributes, type Capture } from './config';
import type { Context } from './tracker';
import { warn } from './core/log';
import { safe } from './core/safe';
import { attach, consent, flush, getAnonymousId, getSessionId, identify, page, reset, start, track } from './index';

type Stub = ((...args: unknown[]) => unknown) & { q?: ArrayLike<unknown>[]; version?: string };

const VERSION = '0.1.0';
/** Errors thrown before the second file (with the error capture) arrives, handed to it then. */
const early: Event[] = [];
const keep = (event: Event) => early.length < 100 && early.push(event);

const api = {
  track,
  page,
  identify,
  flush,
  reset,
  getAnonymousId,
  getSessionId,
  consent,
  /** Used by the second file: starts one of its captures, with the errors kept until then. */
  attach: (capture: Capture) => {
    removeEventListener('error', keep);
    removeEventListener('unhandledrejection', keep);
    // A plain key: the two files are minified apart, so a mangled name would differ between them.
    attach((context) => capture({ ...context, earlyErrors: early } as Context));
    early.length = 0;
  },
};

/** The second file, next to this one: web-vitals and the captures. */
const CAPTURES = 'tracklet.captures.js';
const global = window as unknown as { tracklet?: Stub };
const stub = global.tracklet;

// Pasted twice: the first copy runs, the second leaves it alone.
if (!stub?.version) {
  const tracklet: Stub = Object.assign(
    safe((method: unknown, ...args: unknown[]) => {
      const fn = api[method as keyof typeof api];
      if (fn) return (fn as (...a: unknown[]) => unknown)(...args);
      warn('unknown method', method);
    }),
    api,
    { version: VERSION },
  );
  global.tracklet = tracklet;
  const script = document.currentScript;
  // The captures come in a second file, fetched in parallel once this one has started (a script
  // added by script runs async and does not hold up this file's pageview); each attaches itself
  // through `tracklet.attach`. Under `script-src 'self'` it loads like this file; if it fails to
  // load, the captures are missing and everything else works. The page's nonce is passed on.
  const loadCaptures: Capture = ({ config }) => {
    if (!(config.vitals || config.errors || config.clicks || config.engagement)) return;
    if (config.errors) {
      addEventListener('error', keep);
      addEventListener('unhandledrejection', keep);
    }
    const element = document.createElement('script');
    element.src = new URL(CAPTURES, (script as HTMLScriptElement).src).href;
    element.nonce = (script as HTMLScriptElement).nonce;
    document.head.append(element);
  };
  start(
    {
      ...fromAttributes(script || document.createElement('script')),
      capture: [loadCaptures],
    } as never,
    true,
  );
  for (const args of Array.from(stub?.q || [])) tracklet(...Array.from(args));
}
