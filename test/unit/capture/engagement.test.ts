import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { engagement, IDLE, scrollDepth } from '../../../src/capture/engagement';
import type { EngagementEvent, TrackletEvent } from '../../../src/types';
import type { Context } from '../../../src/core/contract';
import { startCapture, type TestContext } from './context';

const set = (target: object, key: string, value: unknown) =>
  Object.defineProperty(target, key, { value, configurable: true });

/** A document `height` px tall in a 1000 px window, scrolled to `top`. */
const layout = (height: number, top = 0) => {
  set(document.documentElement, 'scrollHeight', height);
  set(window, 'innerHeight', 1000);
  set(window, 'scrollY', top);
};
/** Scrolls and lets `ms` pass (the depth is read on the next frame, ~16 ms). */
const scrollTo = (top: number, ms = 100) => {
  set(window, 'scrollY', top);
  dispatchEvent(new Event('scroll'));
  vi.advanceTimersByTime(ms);
};
const visibility = (state: 'visible' | 'hidden', test?: TestContext) => {
  set(document, 'visibilityState', state);
  document.dispatchEvent(new Event('visibilitychange', { bubbles: true }));
  if (state == 'hidden') test?.fire('hide');
};
const engagements = (test: TestContext) =>
  test.events.filter((event): event is EngagementEvent => event.type == 'engagement');
const input = (type = 'pointerdown') =>
  document.body.dispatchEvent(new Event(type, { bubbles: true }));

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
  layout(1000);
  set(document, 'visibilityState', 'visible');
  history.replaceState({}, '', '/start');
});
afterEach(() => vi.useRealTimers());

/** A started capture with its first pageview sent. */
const begin = () => {
  const test = startCapture(engagement());
  test.pageview();
  return test;
};

describe('scroll depth', () => {
  it.each([
    [500, 0, 100],
    [1000, 0, 100],
    [4000, 0, 25],
    [4000, 1000, 50],
    [4000, 3000, 100],
    [4000, 3500, 100],
  ])('a %d px page in a 1000 px window scrolled to %d has depth %d', (height, top, depth) => {
    layout(height, top);
    expect(scrollDepth()).toBe(depth);
  });
});

describe('engagement capture', () => {
  /** The page view under way, as the tracker hands it to a capture attached `ago` ms after it. */
  const handedOver = (ago: number) =>
    ({
      id: 'pv-early',
      type: 'pageview',
      timestamp: Date.now() - ago,
      url: location.href,
      path: '/start',
      title: '',
      referrer: '',
    }) as TrackletEvent;

  it('counts a visible page from its pageview when attached later (the second file arrives after load)', () => {
    const test = startCapture(engagement());
    test.fire('pageview', handedOver(2000));
    vi.advanceTimersByTime(3000);
    visibility('hidden', test);
    expect(engagements(test)).toMatchObject([{ engagementTime: 5000, pageviewId: 'pv-early' }]);
  });

  it('counts the presses kept before it arrived in the page view handed over, once', () => {
    const kept = [
      new Event('pointerdown'),
      new KeyboardEvent('keydown', { key: 'a' }),
      new Event('click'),
      new ErrorEvent('error', { message: 'kept error' }),
    ];
    const test = startCapture((context) => engagement()({ ...context, early: kept } as Context));
    test.fire('pageview', handedOver(1000));
    vi.advanceTimersByTime(1000);
    input();
    test.pageview('/next');
    vi.advanceTimersByTime(1000);
    visibility('hidden', test);
    expect(engagements(test)).toMatchObject([
      { interactionCount: 3, engagementTime: 2000, pageviewId: 'pv-early' },
      { interactionCount: 0, engagementTime: 1000, path: '/next' },
    ]);
  });

  it('counts a page hidden at the hand-over from when it is shown', () => {
    const test = startCapture(engagement());
    set(document, 'visibilityState', 'hidden');
    test.fire('pageview', handedOver(2000));
    vi.advanceTimersByTime(1000);
    visibility('visible');
    vi.advanceTimersByTime(2000);
    visibility('hidden', test);
    expect(engagements(test)).toMatchObject([{ engagementTime: 2000, pageviewId: 'pv-early' }]);
  });

  it('counts visible time up to the hide, with the pageview id, path and url', () => {
    const test = begin();
    vi.advanceTimersByTime(5000);
    visibility('hidden', test);
    const pageview = test.events[0];
    expect(engagements(test)).toEqual([
      expect.objectContaining({
        type: 'engagement',
        engagementTime: 5000,
        scrollDepth: 100,
        interactionCount: 0,
        pageviewId: pageview.id,
        path: '/start',
        url: pageview.url,
      }),
    ]);
  });

  it('does not count time while the page is hidden', () => {
    const test = begin();
    vi.advanceTimersByTime(2000);
    visibility('hidden', test);
    vi.advanceTimersByTime(60_000);
    visibility('visible');
    vi.advanceTimersByTime(3000);
    visibility('hidden', test);
    expect(engagements(test).map((event) => event.engagementTime)).toEqual([2000, 3000]);
  });

  it(`stops the clock ${IDLE / 1000} s after the last input, and input starts it again`, () => {
    const test = begin();
    vi.advanceTimersByTime(10_000);
    input('keydown');
    vi.advanceTimersByTime(100_000); // counts 30 s after the key press, then idle
    input('pointerdown');
    vi.advanceTimersByTime(4000);
    visibility('hidden', test);
    expect(engagements(test)).toMatchObject([
      { engagementTime: 10_000 + IDLE + 4000, interactionCount: 2 },
    ]);
  });

  it('counts reading without input as engagement for the idle time', () => {
    const test = begin();
    vi.advanceTimersByTime(20_000);
    visibility('hidden', test);
    expect(engagements(test)[0].engagementTime).toBe(20_000);
  });

  it('counts clicks, taps and key presses, not held-key repeats or mouse moves', () => {
    const test = begin();
    input('pointerdown');
    input('keydown');
    document.body.dispatchEvent(new KeyboardEvent('keydown', { bubbles: true, repeat: true }));
    input('pointermove');
    vi.advanceTimersByTime(1000);
    visibility('hidden', test);
    expect(engagements(test)[0].interactionCount).toBe(2);
  });

  it('keeps the deepest scroll, monotone and capped at 100, read once per frame', () => {
    layout(4000);
    const test = begin();
    scrollTo(1000);
    scrollTo(0);
    vi.advanceTimersByTime(1000);
    visibility('hidden', test);
    visibility('visible');
    scrollTo(3900);
    vi.advanceTimersByTime(1000);
    visibility('hidden', test);
    expect(engagements(test).map((event) => event.scrollDepth)).toEqual([50, 100]);
  });

  it('sends the increments of a page view, which add up to its totals', () => {
    const test = begin();
    const visits = [1500, 2500, 4000];
    for (const ms of visits) {
      input();
      vi.advanceTimersByTime(ms);
      visibility('hidden', test);
      vi.advanceTimersByTime(10_000);
      visibility('visible');
    }
    const sent = engagements(test);
    expect(sent.map((event) => event.engagementTime)).toEqual(visits);
    expect(sent.reduce((sum, event) => sum + event.engagementTime, 0)).toBe(8000);
    expect(sent.reduce((sum, event) => sum + event.interactionCount, 0)).toBe(3);
  });

  it('sends nothing when nothing changed (a second hide, pagehide after visibilitychange)', () => {
    const test = begin();
    vi.advanceTimersByTime(1000);
    visibility('hidden', test);
    test.fire('hide');
    vi.advanceTimersByTime(5000);
    test.fire('hide');
    expect(engagements(test)).toHaveLength(1);
  });

  it('ends the page view on SPA navigation before the next pageview, with the old path, then starts anew', () => {
    layout(4000);
    const test = begin();
    const first = test.events[0];
    scrollTo(1000, 2000);
    layout(1000, 0);
    const second = test.pageview('/next');
    expect(test.events.map((event) => event.type)).toEqual(['pageview', 'engagement', 'pageview']);
    expect(engagements(test)[0]).toMatchObject({
      pageviewId: first.id,
      path: '/start',
      scrollDepth: 50,
      engagementTime: 2000,
    });
    expect(engagements(test)[0].url).toMatch(/\/start$/);
    vi.advanceTimersByTime(3000);
    visibility('hidden', test);
    expect(engagements(test)[1]).toMatchObject({
      pageviewId: second.id,
      path: '/next',
      scrollDepth: 100,
      engagementTime: 3000,
    });
  });

  it('after a hide with the page still visible (left for the back/forward cache), counts from the next input', () => {
    const test = begin();
    vi.advanceTimersByTime(1000);
    test.fire('hide');
    // Frozen in the cache, then restored: the time away is not engagement.
    vi.advanceTimersByTime(5000);
    input('pointerdown');
    vi.advanceTimersByTime(2000);
    visibility('hidden', test);
    expect(engagements(test).map((event) => event.engagementTime)).toEqual([1000, 2000]);
  });

  it('sends nothing before the first pageview', () => {
    const test = startCapture(engagement());
    vi.advanceTimersByTime(1000);
    visibility('hidden', test);
    expect(test.events).toHaveLength(0);
  });
});
