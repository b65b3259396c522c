// Loads a fresh copy of the script tag's first file (src/script.ts) in happy-dom, as a tag with the
// given data-* attributes would, and returns `window.tracklet`.
import { afterEach, beforeEach, vi } from 'vitest';

export type Tracklet = ((...args: unknown[]) => unknown) &
  Record<string, (...args: unknown[]) => any>;

/** The attributes every case starts from: a collector, a site, this host allowed, no wait. */
export const BASE = {
  'data-endpoint': 'https://c.example/collect',
  'data-site': 's',
  'data-include-local': 'true',
  'data-flush-interval': '0',
  // No second file here: its captures are tested on their own and in Chromium.
  'data-vitals': 'false',
  'data-errors': 'false',
  'data-clicks': 'false',
  'data-engagement': 'false',
};

export const loadTag = async (attributes: Record<string, string>): Promise<Tracklet> => {
  const tag = document.createElement('script');
  for (const [name, value] of Object.entries({ ...BASE, ...attributes }))
    tag.setAttribute(name, value);
  Object.defineProperty(document, 'currentScript', { configurable: true, get: () => tag });
  vi.resetModules();
  await import('../../../src/script');
  return (window as unknown as { tracklet: Tracklet }).tracklet;
};

/** The options of a tracker made directly (`createTracker` of src/tag/tracker.ts) in these tests. */
export const TRACKER_OPTIONS = {
  endpoint: 'https://c.example/collect',
  site: 's',
  capture: [],
  autoPageview: true,
  spa: 'history',
  batchSize: 10,
  flushInterval: 0,
  sessionTimeout: 30,
  outboxMaxEvents: 1000,
  outboxMaxBytes: 524288,
  outboxMaxAge: 7,
  includeLocal: true,
  scrub: true,
  scrubParams: [],
} as const;

/**
 * Gives each test of the file a fresh page: the history methods each tracker wraps (the first file
 * has no teardown) put back, the address at `/`, storage empty, real timers, no stubbed globals.
 */
export const freshPageEachTest = (): void => {
  const { pushState, replaceState } = history;
  beforeEach(() => {
    Object.assign(history, { pushState, replaceState });
    history.replaceState(null, '', '/');
    localStorage.clear();
  });
  afterEach(() => {
    Object.assign(history, { pushState, replaceState });
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });
};
