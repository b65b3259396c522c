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
import { engagement } from './capture/engagement';
import { errors } from './capture/errors';
import { installEncoder } from './core/encode';
import { vitals } from './capture/vitals';

type Attach = (capture: Capture) => void;
const attach = (window as unknown as { tracklet?: { attach?: Attach } }).tracklet?.attach;

if (attach) {
  // Each starts only when its `data-*` switch is on (the first file read them).
  for (const [key, capture] of Object.entries({ errors, vitals, clicks, engagement }))
    attach((context) => (context.config[key as keyof Config] && capture()(context)) as void);
  // Compact, compressed bodies from now on (docs/wire-format.md).
  attach(installEncoder);
}
