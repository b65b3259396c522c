/**
 * The script tag's second file, `tracklet.captures.js`: Core Web Vitals (web-vitals), errors,
 * tagged clicks and engagement. The first file loads it from next to itself once it has started,
 * so the first pageview never waits for it. Nothing that happened before it arrived is lost:
 * web-vitals reads the browser's buffered performance entries, errors were kept by the first file,
 * and the page view under way is handed to the captures that follow page views.
 */
import type { Capture } from './core/contract';
import { clicks } from './capture/clicks';
import { engagement } from './capture/engagement';
import { errors } from './capture/errors';
import { vitals } from './capture/vitals';
import { installEncoder } from './core/encode';

type Attach = (capture: Capture) => void;
const tracklet = (window as unknown as { tracklet?: { attach?: Attach } }).tracklet;
const CAPTURES = { errors: errors(), vitals: vitals(), clicks: clicks(), engagement: engagement() };
for (const key of ['errors', 'vitals', 'clicks', 'engagement'] as const)
  tracklet?.attach?.((context) => (context.config[key] ? CAPTURES[key](context) : undefined));
// Compact, compressed bodies from now on (docs/wire-format.md). Last: the first attach takes the
// errors the first file kept.
tracklet?.attach?.(installEncoder);
