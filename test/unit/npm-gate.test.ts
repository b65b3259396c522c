// The npm build runs the first file's tracker: the gate's options that the script tag leaves to its
// third file (`exclude`, `sampleRate`) still apply to every event, from the API and from captures.
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config';
import type { Context, TrackletOptions } from '../../src/core/contract';
import { sampleOf } from '../../src/core/privacy';
import { clear } from '../../src/core/storage';
import { createTracker } from '../../src/tracker';
import type { TrackletEvent } from '../../src/types';

let tracker: ReturnType<typeof createTracker> | undefined;
afterEach(() => tracker?.stop!());

/**
 * Starts a tracker with `options` (after `before`, on cleared storage); returns the events that
 * reached beforeSend and the context.
 */
const start = (options: Partial<TrackletOptions>, before?: () => void) => {
  tracker?.stop!();
  clear();
  localStorage.clear();
  before?.();
  const sent: TrackletEvent[] = [];
  let context!: Context;
  tracker = createTracker(
    resolveConfig(
      {
        endpoint: '/c',
        site: 's',
        includeLocal: true,
        flushInterval: 0,
        beforeSend: (event: TrackletEvent) => (sent.push(event), event),
        capture: [(c: Context) => void (context = c)],
        ...options,
      },
      false,
    )!,
  );
  return { sent, context };
};

describe('exclude', () => {
  it('drops the pageviews and events of excluded paths, and keeps the others', () => {
    history.replaceState({}, '', '/admin/users');
    const { sent, context } = start({ exclude: ['/admin/*'] });
    tracker!.track('hidden');
    context.emit({ type: 'error', message: 'boom', errorType: 'Error' });
    history.pushState({}, '', '/pricing');
    tracker!.track('shown');
    expect(sent.map((event) => event.type + ' ' + event.path)).toEqual([
      'pageview /pricing',
      'event /pricing',
    ]);
  });
});

describe('sampleRate', () => {
  it("tracks a session whose sample is under the rate, and none of a session's events above it", () => {
    history.replaceState({}, '', '/');
    const sample = sampleOf('known-session');
    /** What a session with a known id sends at `rate`. */
    const outcome = (rate: number) => {
      const { sent, context } = start({ sampleRate: rate, autoPageview: false }, () =>
        localStorage.setItem(
          'tracklet:session',
          JSON.stringify({ id: 'known-session', last: Date.now(), campaign: '' }),
        ),
      );
      tracker!.track('sampled');
      tracker!.page();
      context.emit({ type: 'error', message: 'boom', errorType: 'Error' });
      return sent.map((event) => event.sessionId + ' ' + event.type);
    };
    expect(outcome(sample + 0.01)).toEqual([
      'known-session event',
      'known-session pageview',
      'known-session error',
    ]);
    expect(outcome(sample - 0.01)).toEqual([]);
  });
});
