/**
 * The script-tag build: `<script defer src="tracklet.js" data-endpoint="…" data-site="…">`.
 * Reads the tag's data-* attributes, starts every capture they leave on, exposes
 * `window.tracklet`, and replays calls queued by the stub snippet before the script loaded.
 */
import { fromAttributes, type Capture } from './config';
import { warn } from './core/log';
import { safe } from './core/safe';
import { clicks, consent, engagement, errors, flush, getAnonymousId, getSessionId, identify, page, reset, start, track, vitals } from './index';

type Stub = ((...args: unknown[]) => unknown) & { q?: ArrayLike<unknown>[]; version?: string };

const VERSION = '0.1.0';
const api = { track, page, identify, flush, reset, getAnonymousId, getSessionId, consent };
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
  // Every capture is bundled; each runs unless its attribute (`data-vitals="false"`…) turns it off.
  const when =
    (key: 'vitals' | 'errors' | 'clicks' | 'engagement', capture: Capture): Capture =>
    (context) =>
      context.config[key] ? capture(context) : undefined;
  start(
    {
      ...fromAttributes(script || document.createElement('script')),
      capture: [when('errors', errors()), when('vitals', vitals()), when('clicks', clicks()), when('engagement', engagement())],
    } as never,
    true,
  );
  for (const args of Array.from(stub?.q || [])) tracklet(...Array.from(args));
}
