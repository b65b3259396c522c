// Things that start can stop: a stopped tracker or outbox leaves no listener, timer or history patch
// behind, queues nothing more, and keeps what it had for the next page.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { clicks } from '../../src/capture/clicks';
import { engagement } from '../../src/capture/engagement';
import { errors } from '../../src/capture/errors';
import { forms } from '../../src/capture/forms';
import { resolveConfig } from '../../src/config';
import { createOutbox } from '../../src/core/outbox';
import { createTracker } from '../../src/tracker';
import type { TrackletEvent } from '../../src/types';

const config = (options: Record<string, unknown> = {}) =>
  resolveConfig(
    { endpoint: 'https://c.example/collect', site: 's', includeLocal: true, ...options },
    false,
  )!;

/** Watches listeners added to and removed from the window and the document; returns those still on. */
const watchListeners = () => {
  type Call = [type: string, listener: unknown, options?: boolean | AddEventListenerOptions];
  const capture = (options?: boolean | AddEventListenerOptions) =>
    typeof options == 'boolean' ? options : !!options?.capture;
  const spies = (
    [
      ['window', globalThis],
      ['document', document],
    ] as const
  ).map(
    ([name, target]) =>
      [
        name,
        vi.spyOn(target, 'addEventListener'),
        vi.spyOn(target, 'removeEventListener'),
      ] as const,
  );
  return () =>
    spies.flatMap(([name, add, remove]) => {
      const live = (add.mock.calls as Call[]).slice();
      for (const [type, listener, options] of remove.mock.calls as Call[]) {
        const index = live.findIndex(
          (call) => call[0] == type && call[1] == listener && capture(call[2]) == capture(options),
        );
        if (index >= 0) live.splice(index, 1);
      }
      return live.map(([type]) => name + ' ' + type);
    });
};

/** Ids of the events stored in the outbox. */
const stored = () =>
  Object.keys(localStorage)
    .filter((key) => key.startsWith('tracklet:o:'))
    .flatMap((key) => JSON.parse(localStorage.getItem(key)!).slice(1) as TrackletEvent[]);

let fetch: ReturnType<typeof vi.fn>;
let beacon: ReturnType<typeof vi.fn>;

beforeEach(() => {
  localStorage.clear();
  history.replaceState({}, '', '/start');
  vi.useFakeTimers();
  fetch = vi.fn(async () => new Response(null, { status: 503 }));
  vi.stubGlobal('fetch', fetch);
  beacon = vi.fn(() => true);
  Object.defineProperty(navigator, 'sendBeacon', { value: beacon, configurable: true });
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('a stopped tracker', () => {
  it('leaves no listener, timer or history patch behind', async () => {
    const live = watchListeners();
    const pushState = history.pushState;
    const tracker = createTracker(
      config({
        spa: 'hash',
        capture: [errors(), clicks({ outbound: true }), engagement(), forms()],
      }),
    );
    tracker.track('signup');
    dispatchEvent(new ErrorEvent('error', { message: 'boom', error: new TypeError('boom') }));
    await vi.advanceTimersByTimeAsync(0);
    // Running: the tracker's, the outbox's and the captures' listeners, the flush and error timers.
    expect(live()).toEqual(
      expect.arrayContaining([
        'window popstate',
        'window hashchange',
        'window pagehide',
        'window online',
        'window error',
        'document click',
        'document submit',
      ]),
    );
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    expect(history.pushState).not.toBe(pushState);

    tracker.stop!();
    expect(live()).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
    expect(history.pushState).toBe(pushState);
  });

  it('queues nothing more, and keeps what it had queued for the next page', async () => {
    const tracker = createTracker(config({ capture: [errors()] }));
    tracker.track('kept');
    tracker.stop!();
    // Stored on stop: the same task's events are not lost.
    expect(stored().map((event) => event.type == 'event' && event.name)).toContain('kept');
    const before = stored().length;

    tracker.track('after');
    history.pushState({}, '', '/after');
    dispatchEvent(new ErrorEvent('error', { message: 'late', error: new Error('late') }));
    dispatchEvent(new Event('pagehide'));
    dispatchEvent(new Event('online'));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(stored()).toHaveLength(before);
    expect(beacon).not.toHaveBeenCalled();
    expect(fetch).not.toHaveBeenCalled();
  });
});

describe('a stopped outbox', () => {
  it('schedules no retry and ignores the browser coming back online', async () => {
    const live = watchListeners();
    const outbox = createOutbox(config());
    outbox.add([
      {
        id: 'e1',
        type: 'event',
        name: 'x',
        timestamp: Date.now(),
        anonymousId: 'a',
        sessionId: 's',
        url: 'https://s.example/',
        path: '/',
      },
    ]);
    await outbox.drain();
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(1);

    outbox.stop!();
    expect(live()).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
    dispatchEvent(new Event('online'));
    await vi.advanceTimersByTimeAsync(600_000);
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(stored().map((event) => event.id)).toEqual(['e1']);
  });
});
