// Captures that arrive after the tracker started (the script tag's second file).
import { beforeAll, describe, expect, it } from 'vitest';
import { errors } from '../../src/capture/errors';
import { resolveConfig } from '../../src/config';
import type { Context } from '../../src/core/contract';
import { createTracker } from '../../src/tracker';
import type { TrackletEvent } from '../../src/types';

const sent: TrackletEvent[] = [];
let tracker: ReturnType<typeof createTracker>;

beforeAll(() => {
  localStorage.clear();
  history.replaceState({}, '', '/landing');
  Object.defineProperty(navigator, 'sendBeacon', { value: () => true, configurable: true });
  tracker = createTracker(
    resolveConfig(
      {
        endpoint: '/c',
        site: 's',
        includeLocal: true,
        flushInterval: 0,
        beforeSend: (event: TrackletEvent) => (sent.push(event), event),
      },
      false,
    )!,
  );
});

describe('tracker.attach', () => {
  it('hands a late capture the page view under way, once, and later page views as they come', () => {
    const views: string[] = [];
    tracker.attach((context: Context) => context.on('pageview', (event) => views.push(event.path)));
    expect(views).toEqual(['/landing']);
    tracker.attach(() => {});
    expect(views).toEqual(['/landing']);
    history.pushState({}, '', '/next');
    expect(views).toEqual(['/landing', '/next']);
  });

  it('gives the error capture the errors kept before it arrived', async () => {
    const early = [
      new ErrorEvent('error', { message: 'early boom', error: new TypeError('early boom') }),
    ];
    tracker.attach((context) => errors()({ ...context, earlyErrors: early } as Context));
    await new Promise((done) => setTimeout(done, 1100));
    expect(sent.filter((event) => event.type == 'error')).toMatchObject([
      { message: 'early boom', errorType: 'TypeError', path: '/next' },
    ]);
  });
});
