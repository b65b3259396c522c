/**
 * The script tag's second file, `tracklet.captures.js`: Core Web Vitals (web-vitals and Tracklet's
 * glue). The first file loads it from next to itself once it has started, so the first pageview
 * never waits for it; web-vitals reads the browser's buffered performance entries, so the metrics
 * of everything that happened before it arrived are still reported.
 */
import type { Capture } from './config';
import { vitals } from './capture/vitals';

const tracklet = (window as unknown as { tracklet?: { attach?(capture: Capture): void } }).tracklet;
const capture = vitals();
tracklet?.attach?.((context) => (context.config.vitals ? capture(context) : undefined));
