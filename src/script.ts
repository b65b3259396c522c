/**
 * The script-tag build: `<script defer src="tracklet.js" data-endpoint="…" data-site="…">`.
 * Reads the tag's data-* attributes, starts every capture they leave on, exposes
 * `window.tracklet`, and replays calls queued by the stub snippet before the script loaded.
 */
import { fromAttributes, type Capture } from './config';
import { warn } from './core/log';
import { safe } from './core/safe';
import { attach, clicks, consent, engagement, errors, flush, getAnonymousId, getSessionId, identify, page, reset, start, track } from './index';

type Stub = ((...args: unknown[]) => unknown) & { q?: ArrayLike<unknown>[]; version?: string };

const VERSION = '0.1.0';
const api = { track, page, identify, flush, reset, getAnonymousId, getSessionId, consent, attach };

/** The second file, next to this one: web-vitals and the vitals capture. */
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
  // Each capture runs unless its attribute (`data-vitals="false"`…) turns it off.
  const when =
    (key: 'vitals' | 'errors' | 'clicks' | 'engagement', capture: Capture): Capture =>
    (context) =>
      context.config[key] ? capture(context) : undefined;
  // Vitals come in a second file, fetched in parallel once this one has started (a script added
  // by script runs async and does not hold up this file's pageview); it attaches itself through
  // `tracklet.attach`. Under `script-src 'self'` it loads like this file; if it fails to load,
  // only the vitals are missing. The page's nonce, if any, is passed on.
  const loadCaptures: Capture = () => {
    const element = document.createElement('script');
    element.src = new URL(CAPTURES, (script as HTMLScriptElement).src).href;
    element.nonce = (script as HTMLScriptElement).nonce;
    document.head.append(element);
  };
  start(
    {
      ...fromAttributes(script || document.createElement('script')),
      capture: [when('errors', errors()), when('vitals', loadCaptures), when('clicks', clicks()), when('engagement', engagement())],
    } as never,
    true,
  );
  for (const args of Array.from(stub?.q || [])) tracklet(...Array.from(args));
}
