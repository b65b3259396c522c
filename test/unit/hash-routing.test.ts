import { beforeAll, describe, expect, it, vi } from 'vitest';
import { resolveConfig } from '../../src/config';
import { createTracker } from '../../src/tracker';
import type { TrackletEvent } from '../../src/types';

const seen: TrackletEvent[] = [];

beforeAll(() => {
  vi.useFakeTimers();
  history.replaceState({}, '', '/app#/home');
  Object.defineProperty(navigator, 'sendBeacon', { value: () => true, configurable: true });
  const config = resolveConfig(
    { endpoint: '/c', site: 's', spa: 'hash', flushInterval: 1000, includeLocal: true },
    false,
  )!;
  config.capture = [(context) => context.on('pageview', (event) => seen.push(event))];
  createTracker(config);
});

describe('SPA pageviews (hash mode)', () => {
  it('counts the hash as part of the path and sends one pageview per hashchange', () => {
    location.hash = '#/pricing';
    dispatchEvent(new HashChangeEvent('hashchange'));
    // The same hash again (a popstate after hashchange, as browsers fire both): no second pageview.
    dispatchEvent(new PopStateEvent('popstate'));
    location.hash = '#/about';
    dispatchEvent(new HashChangeEvent('hashchange'));
    expect(seen.map((event) => event.path)).toEqual(['/app#/home', '/app#/pricing', '/app#/about']);
  });

  it('sends by fetch after flushInterval', async () => {
    const fetch = vi.fn(
      async (_url: string, _init: RequestInit) => new Response(null, { status: 204 }),
    );
    vi.stubGlobal('fetch', fetch);
    location.hash = '#/later';
    dispatchEvent(new HashChangeEvent('hashchange'));
    await vi.advanceTimersByTimeAsync(999);
    expect(fetch).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(JSON.parse(fetch.mock.calls[0][1].body as string).events.at(-1)).toMatchObject({
      path: '/app#/later',
    });
    vi.unstubAllGlobals();
  });
});
