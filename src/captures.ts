/**
 * The script tag's second file, `tracklet.captures.js`: Core Web Vitals (web-vitals), errors,
 * tagged clicks and engagement. The first file loads it from next to itself once it has started,
 * so the first pageview never waits for it. Nothing that happened before it arrived is lost:
 * web-vitals reads the browser's buffered performance entries, errors were kept by the first file,
 * and the page view under way is handed to the captures that follow page views.
 */
import type { Capture, Config } from './core/contract';
// The order of the imports is the order of the code in the file: the encoder (with the preset
// dictionary) first compresses best, measured 21 B brotli less than last.
import { installEncoder } from './core/encode';
import { clicks } from './capture/clicks';
import { engagement } from './capture/engagement';
import { errors } from './capture/errors';
import { vitals } from './capture/vitals';

type Attach = (capture: Capture) => void;
const attach = (window as unknown as { tracklet?: { attach?: Attach } }).tracklet?.attach;

if (attach) {
  // The options this file's captures read, typed: the first file leaves them as it found them (the
  // tag's attribute strings, or the values given to `tracklet('init', …)`). An absent list
  // (`ignoreErrors`, `downloads`) is read as empty where it is used.
  attach(({ config }) => {
    const options = config as unknown as Record<string, unknown>;
    const off = (value: unknown) => value === false || value === 'false';
    options.maxErrors = +(options.maxErrors ?? 20) || 20;
    options.outbound = options.outbound != null && !off(options.outbound);
    if (off(options.compress)) options.compress = false;
  });
  // Each starts only when its `data-*` switch is on (the first file read them).
  for (const [key, capture] of Object.entries({ errors, vitals, clicks, engagement }))
    attach((context) => (context.config[key as keyof Config] && capture()(context)) as void);
  // Compact, compressed bodies from now on (docs/wire-format.md).
  attach(installEncoder);
}
