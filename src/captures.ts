/**
 * The script tag's second file, `tracklet.captures.js`: Core Web Vitals (web-vitals), errors,
 * tagged clicks and engagement. The first file loads it from next to itself once it has started,
 * so the first pageview never waits for it. Nothing that happened before it arrived is lost:
 * web-vitals reads the browser's buffered performance entries, errors were kept by the first file,
 * and the page view under way is handed to the captures that follow page views.
 */
import type { Capture, Config } from './core/contract';
// The order of the imports is the order of the code in the file, and the brotli size of the file
// depends on it: about 50 B between the best and the worst of the 120 orders. This one measured
// the smallest when written (the file alone and as size-limit builds it); worth re-measuring after
// a change.
import { clicks } from './capture/clicks';
import { errors } from './capture/errors';
import { installEncoder } from './core/encode';
import { engagement } from './capture/engagement';
import { vitals } from './capture/vitals';

type Attach = (capture: Capture) => void;
const tracklet = (window as unknown as { tracklet?: { attach?: Attach } }).tracklet;
const attach = tracklet?.attach;

if (attach) {
  // Attached once: a second copy of this file (a page's own tag for it) would report every error,
  // click and vital twice.
  tracklet.attach = undefined;
  // Compact, compressed bodies from now on (docs/wire-format.md).
  attach(installEncoder);
  // Each starts only when its `data-*` switch is on (the first file read them).
  for (const [key, capture] of Object.entries({ errors, vitals, clicks, engagement }))
    attach((context) => (context.config[key as keyof Config] && capture()(context)) as void);
}
