import type { Capture, Context } from '../core/contract';
import type { TrackletEvent } from '../types';
import { safe } from '../core/safe';

/**
 * Input-free time after which the clock stops: reading without touching anything is engagement for
 * this long (never set it under 10 s), then the visitor is taken to have walked away.
 */
export const IDLE = 30_000;

/** Input that shows the visitor is there (and restarts a stopped clock). */
const ACTIVITY = ['pointerdown', 'keydown', 'pointermove', 'scroll'];

/** The share of the document seen so far from its top, in whole percent (a page shorter than the window is 100). */
export const scrollDepth = (): number => {
  const height = Math.max(document.documentElement.scrollHeight, document.body?.scrollHeight || 0);
  return height > innerHeight
    ? Math.min(100, Math.round(((scrollY + innerHeight) / height) * 100))
    : 100;
};

/**
 * Engagement per page view: time visible and in use, the deepest scroll and the number of clicks,
 * taps and key presses. Sent as an `engagement` event when the page is hidden and when an SPA
 * navigation ends the page view (before the next pageview); each event carries what happened since
 * the previous one of the same page view, and none is sent when nothing did.
 *
 * The clock needs no timer: it runs while the page is visible and stops {@link IDLE} ms after the
 * last input; that is worked out from timestamps whenever it is read, so nothing runs while the page
 * is hidden or idle.
 */
export const engagement =
  (): Capture =>
  ({ emit, on }: Context) => {
    let view: TrackletEvent | undefined;
    let time = 0;
    let interactions = 0;
    let depth = 0;
    let sentDepth = 0;
    let lastInput = 0;
    // Start of the stretch not yet added to `time`; undefined while the page is hidden.
    let since: number | undefined;
    let frame = 0;

    /** Adds the visible, non-idle time up to now to `time`. */
    const settle = (now: number) => {
      if (since === undefined) return;
      const end = Math.min(now, lastInput + IDLE);
      if (end > since) time += end - since;
      since = now;
    };

    const start = () => {
      since = lastInput = Date.now();
    };

    const measure = () => {
      frame = 0;
      depth = Math.max(depth, scrollDepth());
    };

    const send = () => {
      if (!view) return;
      settle(Date.now());
      const engagementTime = Math.round(time);
      if (!engagementTime && depth <= sentDepth && !interactions) return;
      emit({
        type: 'engagement',
        engagementTime,
        scrollDepth: depth,
        interactionCount: interactions,
        pageviewId: view.id,
        path: view.path,
        url: view.url,
      });
      time = interactions = 0;
      sentDepth = depth;
    };

    const onInput = safe((event: Event) => {
      const now = Date.now();
      settle(now);
      lastInput = now;
      if (
        event.type == 'pointerdown' ||
        (event.type == 'keydown' && !(event as KeyboardEvent).repeat)
      )
        interactions++;
      // One depth reading per frame however fast scroll events come.
      if (event.type == 'scroll' && !frame) frame = requestAnimationFrame(safe(measure));
    });
    for (const type of ACTIVITY) addEventListener(type, onInput, { capture: true, passive: true });

    const onVisible = safe(() => document.visibilityState == 'visible' && start());
    addEventListener('visibilitychange', onVisible);
    on('pageview', (event) => {
      view = event;
      time = interactions = depth = sentDepth = 0;
      if (document.visibilityState == 'visible') start();
      // Measured on the next frame: after an SPA navigation the new route may not be rendered yet.
      frame ||= requestAnimationFrame(safe(measure));
    });
    // The page view ends before the next pageview is queued; its DOM may already be the next route's,
    // so depth is what the scroll readings found.
    on('page', () => {
      send();
      view = undefined;
    });
    on('hide', () => {
      measure();
      send();
      since = undefined;
    });
    if (TEARDOWN)
      return () => {
        cancelAnimationFrame(frame);
        for (const type of ACTIVITY) removeEventListener(type, onInput, true);
        removeEventListener('visibilitychange', onVisible);
      };
  };
