// npm: set() and notFound() before init() shape the first pageview; the marketing captures are explicit imports.
import { describe, expect, it } from 'vitest';
import { forms, init, notFound, set, track, type TrackletEvent } from '../../src/index';

describe('npm set() and notFound()', () => {
  it('called before init(), reach the first pageview; set() after it reaches later events', () => {
    const sent: TrackletEvent[] = [];
    localStorage.clear();
    history.replaceState({}, '', '/no-such-page');
    Object.defineProperty(navigator, 'sendBeacon', { value: () => true, configurable: true });
    set({ plan: 'pro' });
    notFound();
    init({
      endpoint: '/c',
      site: 's',
      includeLocal: true,
      flushInterval: 0,
      capture: [forms()],
      beforeSend: (event) => (sent.push(event), event),
    });
    set({ step: 2 });
    track('after');
    expect(sent).toMatchObject([
      { type: 'pageview', path: '/no-such-page', status: 404, properties: { plan: 'pro' } },
      { type: 'event', name: 'after', properties: { plan: 'pro', step: 2 } },
    ]);
    expect(sent[1]).not.toHaveProperty('status');
  });
});
