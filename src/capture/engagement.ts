import type { Capture, Context } from '../core/contract';
import type { TrackletEvent } from '../types';
import { safe } from '../core/safe';

/**
 * Input-free time after which the clock stops: reading without touching anything is engagement for
 * this long (never set it under 10 s), then the visitor is taken to have walked away.
 */
export const IDLE = 30_000;

/**
 * Input that shows the visitor is there (and restarts a stopped clock); a `visibilitychange` also
 * starts or stops it.
 */
const ACTIVITY = ['pointerdown', 'keydown', 'pointermove', 'scroll', 'visibilitychange'];

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
  ({ emit, on, early }: Context & { early?: Event[] }) => {
    let view: TrackletEvent | undefined;
    let time = 0;
    let interactions = 0;
    let depth = 0;
    let sentDepth = 0;
    let lastInput = 0;
    // Start of the stretch not yet added to `time`; 0 while the clock is stopped (page hidden).
    let since = 0;
    let frame = 0;

    /** Adds the visible, non-idle time up to now to `time`; the clock runs on while visible. */
    const settle = () => {
      const now = Date.now();
      if (since) time += Math.max(0, Math.min(now, lastInput + IDLE) - since);
      since = document.visibilityState == 'visible' ? now : 0;
      return now;
    };

    const measure = safe(() => {
      frame = 0;
      depth = Math.max(depth, scrollDepth());
    });
    // One depth reading per frame however fast scroll events come.
    const measureSoon = () => (frame ||= requestAnimationFrame(measure));

    const send = () => {
      if (!view) return;
      settle();
      // Nothing happened since the last one: none sent (the resets below then change nothing, as
      // the deepest scroll only grows).
      if (time || depth > sentDepth || interactions)
        emit({
          type: 'engagement',
          engagementTime: time,
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
      lastInput = settle();
      const { type, repeat } = event as KeyboardEvent;
      if (type == 'pointerdown' || (type == 'keydown' && !repeat)) interactions++;
      if (type == 'scroll') measureSoon();
    });
    for (const type of ACTIVITY) addEventListener(type, onInput, { capture: true, passive: true });

    on('pageview', (event) => {
      view = event;
      lastInput = settle();
      // Handed over late (the script tag's second file arrives once the page has loaded): a visible
      // page's clock starts at its pageview, not at the hand-over.
      if (since) since = lastInput = Math.min(lastInput, event.timestamp);
      time = interactions = depth = sentDepth = 0;
      // Presses the script tag's first file kept while this capture was on its way: counted once,
      // in the page view under way (handed over right after this capture started).
      early?.forEach((event) => ACTIVITY.includes(event.type) && onInput(event));
      early = undefined;
      // Measured on the next frame: after an SPA navigation the new route may not be rendered yet.
      measureSoon();
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
      since = 0;
    });
    if (TEARDOWN)
      return () => {
        cancelAnimationFrame(frame);
        for (const type of ACTIVITY) removeEventListener(type, onInput, true);
      };
  };
