// The first file's tracker before the page has loaded: its events are held with their time and
// place, and storage opens at the load event (a task later), after 3 s, or at the first call that
// needs it; then the held events get their ids, in order, and go through the gate.
import { describe, expect, it, vi } from 'vitest';
import type { Batch } from '../../../src/types';
import type { TagConfig } from '../../../src/tag/tracker';
import { freshPageEachTest, TRACKER_OPTIONS } from './load';

const collector = () => {
  const bodies: Batch[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (_url: string, init: RequestInit) => {
      bodies.push(JSON.parse(init.body as string));
      return new Response(null, { status: 204 });
    }),
  );
  return () => bodies.flatMap((body) => body.events);
};

/** A fresh tracker made while the document is still `interactive` (a `defer` script's moment). */
const startLoading = async (options: Partial<TagConfig> = {}) => {
  vi.resetModules();
  const { createTracker } = await import('../../../src/tag/tracker');
  Object.defineProperty(document, 'readyState', { configurable: true, get: () => 'interactive' });
  try {
    return createTracker({
      ...TRACKER_OPTIONS,
      ...options,
    } as TagConfig);
  } finally {
    delete (document as { readyState?: unknown }).readyState;
  }
};

const tracklet = () => Object.keys(localStorage).filter((key) => key.startsWith('tracklet:'));
const tick = () => new Promise((done) => setTimeout(done));

freshPageEachTest();

describe('the start, before the page has loaded', () => {
  it('holds the events of the start without storage, and fills in their ids a task after the load event', async () => {
    const events = collector();
    const tracker = await startLoading();
    history.pushState(null, '', '/second');
    tracker.track('early', { n: 1 });
    await tick();
    expect(tracklet()).toEqual([]);
    expect(events()).toEqual([]);

    dispatchEvent(new Event('load'));
    expect(tracklet()).toEqual([]);
    await tick();
    // Opened by the load event: the ids are stored before anything asks for them.
    expect(tracklet()).toContain('tracklet:aid');
    await tracker.flush();
    const aid = localStorage.getItem('tracklet:aid');
    const session = JSON.parse(localStorage.getItem('tracklet:session')!).id;
    expect(events().map((event) => [event.type, event.path])).toEqual([
      ['pageview', '/'],
      ['pageview', '/second'],
      ['event', '/second'],
    ]);
    for (const event of events())
      expect(event).toMatchObject({ anonymousId: aid, sessionId: session });
    // The wire order of the fields stays that of an event stamped at once.
    expect(Object.keys(events()[2]).slice(0, 7)).toEqual([
      'id',
      'timestamp',
      'anonymousId',
      'sessionId',
      'url',
      'path',
      'type',
    ]);
  });

  it('opens storage at the first call that needs it: ids, identify, consent, flush', async () => {
    const events = collector();
    const tracker = await startLoading({ autoPageview: false });
    tracker.track('before');
    expect(tracklet()).toEqual([]);
    const aid = tracker.getAnonymousId();
    expect(localStorage.getItem('tracklet:aid')).toBe(aid);
    tracker.identify('user-1');
    await tracker.flush();
    expect(events().map((event) => [event.type, event.anonymousId, event.userId])).toEqual([
      ['event', aid, undefined],
      ['identify', aid, 'user-1'],
    ]);
  });

  it('opens storage when the page is hidden before its load, and sends what was held', async () => {
    const events = collector();
    const beacons: string[] = [];
    vi.stubGlobal('navigator', {
      ...navigator,
      sendBeacon: (_url: string, body: string) => (beacons.push(body), true),
    });
    const tracker = await startLoading();
    tracker.track('leaving');
    dispatchEvent(new Event('pagehide'));
    const sent = [...beacons.map((body) => JSON.parse(body) as Batch), ...[{ events: events() }]];
    expect(sent.flatMap((body) => body.events).map((event) => event.type)).toEqual([
      'pageview',
      'event',
    ]);
    expect(localStorage.getItem('tracklet:aid')).toMatch(/^\w{21}$/);
  });

  it('opens storage 3 s after the start when the load event has not come', async () => {
    vi.useFakeTimers();
    collector();
    await startLoading();
    vi.advanceTimersByTime(2_900);
    expect(tracklet()).toEqual([]);
    vi.advanceTimersByTime(200);
    expect(localStorage.getItem('tracklet:aid')).toMatch(/^\w{21}$/);
  });

  it('with consent required, keeps held events waiting for consent, and sends them on grant', async () => {
    const events = collector();
    const tracker = await startLoading({ consent: 'required' });
    tracker.track('held');
    tracker.consent(true);
    await tracker.flush();
    expect(events().map((event) => event.type)).toEqual(['pageview', 'event']);
    expect(localStorage.getItem('tracklet:consent')).toBe('1');
  });
});
