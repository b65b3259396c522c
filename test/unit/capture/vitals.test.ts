import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Metric } from 'web-vitals';
import { toVital, vitals } from '../../../src/capture/vitals';
import { startCapture } from './context';

// web-vitals itself is exercised in real Chromium (test/browser/captures.test.ts); here its
// callbacks are driven by hand to test what Tracklet makes of them.
const reporters = vi.hoisted(() => [] as ((metric: Metric) => void)[]);
vi.mock('web-vitals', () => {
  const on = (report: (metric: Metric) => void, options: { reportAllChanges?: boolean }) =>
    void (options.reportAllChanges && reporters.push(report));
  return { onLCP: on, onCLS: on, onINP: on, onFCP: on, onTTFB: on };
});

const metric = (fields: Partial<Metric>): Metric =>
  ({
    name: 'LCP',
    value: 0,
    rating: 'good',
    delta: 0,
    id: 'v5-1',
    entries: [],
    navigationType: 'navigate',
    ...fields,
  }) as Metric;

beforeEach(() => {
  reporters.length = 0;
  history.replaceState({}, '', '/landing');
});

describe('vitals', () => {
  it.each([
    [metric({ name: 'LCP', value: 2512.37, rating: 'needs-improvement', id: 'v5-a' }), 2512],
    [metric({ name: 'FCP', value: 48.6, id: 'v5-b' }), 49],
    [metric({ name: 'TTFB', value: 0.4, id: 'v5-c', navigationType: 'reload' }), 0],
    [metric({ name: 'INP', value: 600, rating: 'poor', id: 'v5-d' }), 600],
    [metric({ name: 'CLS', value: 0.123456, rating: 'needs-improvement', id: 'v5-e' }), 0.1235],
  ])('maps %o to a vital event with value %d', (input, value) => {
    expect(toVital(input, { path: '/p', url: 'https://s.example/p' })).toEqual({
      type: 'vital',
      metricName: input.name,
      metricValue: value,
      rating: input.rating,
      metricId: input.id,
      navigationType: input.navigationType,
      path: '/p',
      url: 'https://s.example/p',
    });
  });

  it('listens to every change of all five metrics', () => {
    startCapture(vitals());
    expect(reporters).toHaveLength(5);
  });

  it('sends FCP and TTFB at once, and the latest LCP, CLS and INP when the page is hidden', () => {
    const test = startCapture(vitals());
    const [lcp, cls, inp, fcp, ttfb] = reporters;
    ttfb(metric({ name: 'TTFB', value: 20, id: 'v5-ttfb' }));
    lcp(metric({ name: 'LCP', value: 100, id: 'v5-lcp' }));
    fcp(metric({ name: 'FCP', value: 80, id: 'v5-fcp' }));
    lcp(metric({ name: 'LCP', value: 900, id: 'v5-lcp' }));
    cls(metric({ name: 'CLS', value: 0.01, id: 'v5-cls' }));
    cls(metric({ name: 'CLS', value: 0.2, rating: 'needs-improvement', id: 'v5-cls' }));
    inp(metric({ name: 'INP', value: 300, rating: 'needs-improvement', id: 'v5-inp' }));
    expect(test.events.map((event) => 'metricName' in event && event.metricName)).toEqual([
      'TTFB',
      'FCP',
    ]);
    test.fire('hide');
    expect(test.events.slice(2)).toMatchObject([
      { metricName: 'LCP', metricValue: 900 },
      { metricName: 'CLS', metricValue: 0.2, rating: 'needs-improvement' },
      { metricName: 'INP', metricValue: 300 },
    ]);
  });

  it('sends each metric id once, for the page the document was loaded at, not a later SPA route', () => {
    const test = startCapture(vitals());
    history.pushState({}, '', '/later');
    reporters[1](metric({ name: 'CLS', value: 0.05, id: 'v5-cls' }));
    test.fire('hide');
    reporters[1](metric({ name: 'CLS', value: 0.2, id: 'v5-cls' }));
    test.fire('hide');
    expect(test.events).toMatchObject([
      { type: 'vital', metricName: 'CLS', metricValue: 0.05, path: '/landing' },
    ]);
    expect(test.events[0].url).toMatch(/\/landing$/);
  });

  it('attributes metrics after a back/forward-cache restore to the restored URL', () => {
    const { events } = startCapture(vitals());
    history.pushState({}, '', '/restored');
    dispatchEvent(Object.assign(new Event('pageshow'), { persisted: true }));
    reporters[3](
      metric({ name: 'FCP', value: 12, id: 'v5-new', navigationType: 'back-forward-cache' }),
    );
    expect(events).toMatchObject([
      { metricName: 'FCP', path: '/restored', navigationType: 'back-forward-cache' },
    ]);
  });

  it('contains a failure while sending a metric', () => {
    const test = startCapture(vitals());
    test.failing = true;
    expect(() => reporters[0](metric({ id: 'v5-x' }))).not.toThrow();
  });
});
