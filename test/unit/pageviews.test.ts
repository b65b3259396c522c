import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { resolveConfig } from '../../src/config';
import type { Context } from '../../src/core/contract';
import { createTracker } from '../../src/tracker';
import type { TrackletEvent } from '../../src/types';

// One tracker for the file: it patches `history` and listens on `window` for the page's lifetime.
const seen: TrackletEvent[] = [];
const record = (context: Context) => context.on('pageview', (event) => seen.push(event));
let beacon: ReturnType<typeof vi.fn>;
let tracker: ReturnType<typeof createTracker>;

beforeAll(() => {
  localStorage.clear();
  history.replaceState({}, '', '/start?utm_source=mail');
  beacon = vi.fn(() => true);
  Object.defineProperty(navigator, 'sendBeacon', { value: beacon, configurable: true });
  const config = resolveConfig(
    { endpoint: '/collect', site: 's', capture: [record], flushInterval: 0, includeLocal: true },
    false,
  )!;
  tracker = createTracker(config);
});
beforeEach(() => {
  seen.length = 0;
});

const paths = () => seen.map((event) => event.path);

describe('SPA pageviews (history mode)', () => {
  it('sent one pageview on start, with the landing attribution', () => {
    // The initial pageview happened in beforeAll; replay what was queued by flushing.
    dispatchEvent(new Event('pagehide'));
    const body = JSON.parse(beacon.mock.calls.at(-1)![1]);
    expect(body.events).toHaveLength(1);
    expect(body.events[0]).toMatchObject({
      type: 'pageview',
      path: '/start',
      attribution: { utm_source: 'mail' },
    });
  });

  it('sends one per pushState to a new URL', () => {
    history.pushState({}, '', '/a');
    history.pushState({}, '', '/b?x=1');
    expect(paths()).toEqual(['/a', '/b']);
    expect(seen[1]).toMatchObject({
      url: expect.stringMatching(/\/b\?x=1$/),
      referrer: expect.stringMatching(/\/a$/),
    });
  });

  it('sends none for replaceState or pushState to the same URL, or a hash change', () => {
    history.pushState({}, '', '/same');
    history.replaceState({ scroll: 1 }, '', '/same');
    history.pushState({}, '', '/same');
    history.pushState({}, '', '/same#section');
    expect(paths()).toEqual(['/same']);
  });

  it('sends one for replaceState to a new path and for popstate', () => {
    history.replaceState({}, '', '/replaced');
    history.pushState({}, '', '/next');
    // A back navigation: the browser moves the URL without calling the history API, then fires popstate.
    (window as unknown as { happyDOM: { setURL(url: string): void } }).happyDOM.setURL(
      location.origin + '/replaced',
    );
    dispatchEvent(new PopStateEvent('popstate'));
    expect(paths()).toEqual(['/replaced', '/next', '/replaced']);
  });

  it('still tracks when the page patched pushState after Tracklet', () => {
    const patched = history.pushState;
    history.pushState = function (...args: Parameters<History['pushState']>) {
      return patched.apply(this, args);
    };
    history.pushState({}, '', '/router');
    history.pushState = patched;
    expect(paths()).toEqual(['/router']);
  });

  it('flushes queued events when the page is hidden', () => {
    dispatchEvent(new Event('pagehide'));
    const calls = beacon.mock.calls.length;
    history.pushState({}, '', '/hidden-test');
    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
    document.dispatchEvent(new Event('visibilitychange', { bubbles: true }));
    Object.defineProperty(document, 'visibilityState', { value: 'visible', configurable: true });
    expect(beacon.mock.calls.length).toBe(calls + 1);
    const body = JSON.parse(beacon.mock.calls.at(-1)![1]);
    expect(body.events.map((event: TrackletEvent) => event.path)).toEqual(['/hidden-test']);
  });
});

describe('batching', () => {
  it('sends by fetch once the batch is full, not before', async () => {
    dispatchEvent(new Event('pagehide'));
    const fetch = vi.fn(
      async (_url: string, _init: RequestInit) => new Response(null, { status: 204 }),
    );
    vi.stubGlobal('fetch', fetch);
    for (let i = 0; i < 9; i++) tracker.track('e' + i);
    await new Promise((done) => setTimeout(done, 10));
    expect(fetch).not.toHaveBeenCalled();
    tracker.track('e9');
    await vi.waitFor(() => expect(fetch).toHaveBeenCalledTimes(1));
    expect(fetch.mock.calls[0][1]).toMatchObject({
      method: 'POST',
      keepalive: true,
      credentials: 'omit',
    });
    expect(JSON.parse(fetch.mock.calls[0][1].body as string).events).toHaveLength(10);
    vi.unstubAllGlobals();
  });
});
