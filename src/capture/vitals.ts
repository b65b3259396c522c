import { onCLS, onFCP, onINP, onLCP, onTTFB, type Metric } from 'web-vitals';
import type { Capture } from '../config';
import type { Context, EventFields } from '../tracker';
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
  metricValue: metric.name == 'CLS' ? Math.round(metric.value * 1e4) / 1e4 : Math.round(metric.value),
  rating: metric.rating,
  metricId: metric.id,
  navigationType: metric.navigationType,
  path: page.path,
  url: page.url,
});

/**
 * Core Web Vitals (LCP, CLS, INP, FCP, TTFB) through `web-vitals`, each sent once with its final
 * value. LCP, CLS and INP are final when the page is hidden: web-vitals reports them from
 * capture-phase listeners, which run before the tracker's hide-time flush (bubbling, on window).
 */
export const vitals =
  (): Capture =>
  ({ emit, path }: Context) => {
    let page: Page = { path: path(), url: location.href };
    const sent = new Set<string>();
    const report = safe((metric: Metric) => {
      // web-vitals reports CLS/INP again when the value grows after the visitor comes back to a
      // hidden tab; the first report at hide is what is sent, so each metric id counts once.
      if (sent.has(metric.id)) return;
      sent.add(metric.id);
      emit(toVital(metric, page));
    });
    // A page restored from the back/forward cache reports its own metrics (with new ids), for the
    // URL it is restored at.
    addEventListener(
      'pageshow',
      (event) => event.persisted && (page = { path: path(), url: location.href }),
      true,
    );
    for (const on of [onLCP, onCLS, onINP, onFCP, onTTFB]) on(report);
  };
