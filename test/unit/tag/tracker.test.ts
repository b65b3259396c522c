// The script tag's first file (src/script.ts over src/tag/) where a browser is not needed: what it
// stores, in the layout the npm build stores (a page upgraded mid-visit keeps its ids and unsent
// events), the outbox's bound, and the stub's queue.
import { describe, expect, it, vi } from 'vitest';
import { encode, segmentKey } from '../../../src/core/segments';
import type { Batch, TrackletEvent } from '../../../src/types';
import type { Capture } from '../../../src/core/contract';
import type { TagConfig } from '../../../src/tag/tracker';
import { freshPageEachTest, TRACKER_OPTIONS } from './load';

/** A collector stub: answers every request with `status`, keeps the bodies. */
const collector = (status = 204) => {
  const bodies: Batch[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (_url: string, init: RequestInit) => {
      bodies.push(JSON.parse(init.body as string));
      return new Response(null, { status });
    }),
  );
  return { bodies, events: () => bodies.flatMap((body) => body.events) };
};

/** A fresh copy of the first file's tracker (its storage keeps module state), started with `options`. */
const start = async (options: Partial<TagConfig> = {}) => {
  vi.resetModules();
  const { createTracker } = await import('../../../src/tag/tracker');
  return createTracker({
    ...TRACKER_OPTIONS,
    ...options,
  } as TagConfig);
};

const stored = (key: string) => localStorage.getItem('tracklet:' + key);
const segments = () =>
  Object.keys(localStorage)
    .filter((key) => key.startsWith('tracklet:o:'))
    .map((key) => JSON.parse(localStorage.getItem(key)!) as [number, ...TrackletEvent[]]);

freshPageEachTest();

describe('the first file stores what the npm build stores', () => {
  it('keeps the anonymous id, the session record and the user id under the same keys and layout', async () => {
    collector();
    const tracker = await start();
    tracker.identify('user-7');
    await new Promise((done) => setTimeout(done));
    expect(stored('aid')).toMatch(/^[\w-]{21}$/);
    const session = JSON.parse(stored('session')!);
    expect(Object.keys(session)).toEqual(['id', 'last', 'campaign']);
    expect(session).toMatchObject({ id: tracker.getSessionId(), campaign: '' });
    expect(stored('uid')).toBe('user-7');
    expect(tracker.getAnonymousId()).toBe(stored('aid'));
    expect(stored('consent')).toBeNull();
  });

  it('stores events in segments [beaconed, event…] under tracklet:o:, sent and removed on a 2xx', async () => {
    const { events } = collector();
    const tracker = await start();
    tracker.track('signup', { plan: 'pro' });
    await new Promise((done) => setTimeout(done));
    // One segment per task: the pageview's, then the event's.
    expect(segments()).toEqual([
      [0, expect.objectContaining({ type: 'pageview' })],
      [0, expect.objectContaining({ type: 'event', name: 'signup' })],
    ]);
    await tracker.flush();
    expect(events().map((event) => event.type)).toEqual(['pageview', 'event']);
    expect(events()[1]).toMatchObject({ name: 'signup', properties: { plan: 'pro' }, path: '/' });
    expect(segments()).toEqual([]);
  });

  it('resends, with the same ids, the segments the npm build (or an older first file) left', async () => {
    const { events } = collector();
    const left = { id: 'left-1', type: 'event', name: 'unsent', timestamp: Date.now() };
    localStorage.setItem(
      'tracklet:' + segmentKey(Date.now() - 1000),
      encode(0, [JSON.stringify(left)]),
    );
    const tracker = await start({ autoPageview: false });
    await tracker.flush();
    expect(events()).toEqual([left]);
  });
});

describe('the outbox', () => {
  it('keeps a failure inside a send from the page (no unhandled rejection), and the events stored', async () => {
    collector();
    // Installed as the second file installs its encoder: after the outbox was made.
    const broken: Capture = ({ config }) => {
      config.encode = () => {
        throw new Error('a broken encoder');
      };
    };
    const tracker = await start({ capture: [broken] });
    await expect(tracker.flush()).resolves.toBeUndefined();
    expect(segments()).toHaveLength(1);
  });
});

describe('the outbox bound', () => {
  it('drops the oldest events past outboxMaxEvents once sends failed twice in a row, never before', async () => {
    vi.useFakeTimers();
    collector(503);
    const tracker = await start({ autoPageview: false, outboxMaxEvents: 3 });
    for (let n = 0; n < 5; n++) tracker.track('e' + n);
    await vi.advanceTimersByTimeAsync(0);
    await tracker.flush();
    // One failure: everything is kept.
    expect(segments().flatMap((segment) => segment.slice(1))).toHaveLength(5);
    await vi.advanceTimersByTimeAsync(5_000);
    const kept = segments().flatMap((segment) => segment.slice(1) as TrackletEvent[]);
    expect(kept.map((event) => (event as { name?: string }).name)).toEqual(['e2', 'e3', 'e4']);
  });
});

describe('the privacy gate', () => {
  it('with consent required, stores nothing until consent(true), then sends what waited', async () => {
    const { events } = collector();
    const tracker = await start({ consent: 'required' });
    tracker.track('waiting');
    await tracker.flush();
    expect(Object.keys(localStorage)).toEqual([]);
    tracker.consent(true);
    await new Promise((done) => setTimeout(done));
    await tracker.flush();
    expect(events().map((event) => event.type)).toEqual(['pageview', 'event']);
    expect(stored('consent')).toBe('1');
    expect(stored('aid')).toBe(events()[0].anonymousId);
  });

  it('scrubs e-mail addresses and secret parameters from the URL, and keeps the campaign', async () => {
    const { events } = collector();
    history.replaceState(null, '', '/signup?email=bob@example.com&utm_source=x&apiKey=abc');
    const tracker = await start();
    await tracker.flush();
    expect(events()[0]).toMatchObject({
      url: expect.stringMatching(/\?email=\[redacted\]&utm_source=x&apiKey=\[redacted\]$/),
      attribution: { utm_source: 'x' },
    });
  });
});
