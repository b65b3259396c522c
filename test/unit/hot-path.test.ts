// What makes a burst of calls cheap: storage and the URL are read once per task, never stale across tasks.
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config';
import { read, write } from '../../src/core/storage';
import { createTracker } from '../../src/tracker';
import type { TrackletEvent } from '../../src/types';

const emitted: TrackletEvent[] = [];
let tracker: ReturnType<typeof createTracker>;

beforeAll(() => {
  localStorage.clear();
  history.replaceState({}, '', '/first?q=1#top');
  Object.defineProperty(navigator, 'sendBeacon', { value: () => true, configurable: true });
  const config = resolveConfig(
    {
      endpoint: '/c',
      site: 's',
      flushInterval: 0,
      includeLocal: true,
      autoPageview: false,
      beforeSend: (event: TrackletEvent) => (emitted.push(event), event),
    },
    false,
  )!;
  tracker = createTracker(config);
});

describe('storage reads', () => {
  it('reads localStorage once per task, and sees what another tab wrote in the next task', async () => {
    write('probe', 'mine');
    expect(read('probe')).toBe('mine');
    // Another tab's write: it reaches this page between tasks, without going through `write`.
    localStorage.setItem('tracklet:probe', 'theirs');
    expect(read('probe')).toBe('mine');
    await Promise.resolve();
    expect(read('probe')).toBe('theirs');
  });

  it('sees its own write at once, in the same task', () => {
    write('probe', 'one');
    expect(read('probe')).toBe('one');
    write('probe', 'two');
    expect(read('probe')).toBe('two');
  });
});

describe('the URL of a burst of events', () => {
  it('gives 1,000 events of one task the same visitor and session, and a path without query or hash', () => {
    emitted.length = 0;
    for (let i = 0; i < 1000; i++) tracker.track('burst', { i });
    expect(new Set(emitted.map((event) => event.sessionId)).size).toBe(1);
    expect(new Set(emitted.map((event) => event.anonymousId)).size).toBe(1);
    expect(new Set(emitted.map((event) => event.id)).size).toBe(1000);
    expect(emitted[999]).toMatchObject({
      path: '/first',
      url: expect.stringMatching(/\/first\?q=1#top$/),
    });
  });

  it('takes the new URL for an event tracked right after a navigation in the same task', () => {
    emitted.length = 0;
    tracker.track('before');
    history.pushState({}, '', '/second?x=2');
    tracker.track('after');
    expect(emitted.filter((event) => event.type == 'event').map((event) => event.path)).toEqual([
      '/first',
      '/second',
    ]);
  });

  it('sees the user id set by identify() in the same task', () => {
    emitted.length = 0;
    tracker.track('anonymous');
    tracker.identify('user-1');
    tracker.track('as-user');
    expect(emitted.map((event) => event.userId)).toEqual([undefined, 'user-1', 'user-1']);
  });
});
