import { onCLS, onFCP, onINP, onLCP, onTTFB, type Metric } from 'web-vitals';
import type { Capture, Context, EventFields } from '../core/contract';
import { safe } from '../core/safe';

/** The page a metric belongs to: the document's own URL, not a later SPA route. */
interface Page {
  path: string;
  url: string;
}

/**
 * A web-vitals report as a `vital` event: milliseconds rounded to whole ones, CLS (unitless) to
 * four decimals, which keeps the wire short without changing any rating.
 */
export const toVital = (metric: Metric, page: Page): EventFields => ({
  type: 'vital',
  metricName: metric.name,
  metricValue:
    metric.name == 'CLS' ? Math.round(metric.value * 1e4) / 1e4 : Math.round(metric.value),
  rating: metric.rating,
  metricId: metric.id,
  navigationType: metric.navigationType,
  ...page,
});

/**
 * Core Web Vitals (LCP, CLS, INP, FCP, TTFB) through `web-vitals`, each metric id sent once with
 * its final value. FCP and TTFB are final when first reported and go at once. LCP, CLS and INP are
 * final when the page is hidden: web-vitals reports every change (`reportAllChanges`), the latest
 * is kept, and it is queued from the tracker's `hide` hook, which runs after web-vitals' own
 * capture-phase `visibilitychange` listeners and just before the hide-time flush. Waiting for
 * web-vitals' final report alone is not enough: v5 processes INP entries in an idle callback, and
 * when none ran before the hide (a busy page; headless Chromium never idles), INP comes in after
 * its final report and would be lost.
 */
export const vitals =
  (): Capture =>
  ({ emit, on, path }: Context) => {
    const here = (): Page => ({ path: path(), url: location.href });
    let page = here();
    // Metric id → its latest value not yet sent, or 0 once sent (later changes are dropped).
    const kept = new Map<string, EventFields | 0>();
    const send = (vital: EventFields | 0, id: string) => vital && (kept.set(id, 0), emit(vital));
    const report = safe((metric: Metric) => {
      if (kept.get(metric.id) === 0) return;
      kept.set(metric.id, toVital(metric, page));
      if (metric.name == 'FCP' || metric.name == 'TTFB') send(kept.get(metric.id)!, metric.id);
    });
    on('hide', () => kept.forEach(send));
    // A page restored from the back/forward cache reports its own metrics (with new ids), for the
    // URL it is restored at.
    const onShow = (event: PageTransitionEvent) => event.persisted && (page = here());
    addEventListener('pageshow', onShow, true);
    for (const on of [onLCP, onCLS, onINP, onFCP, onTTFB]) on(report, { reportAllChanges: true });
    // web-vitals has no way to stop its observers: what they report after this reaches a stopped
    // tracker, which queues nothing.
    if (TEARDOWN) return () => removeEventListener('pageshow', onShow, true);
  };
