// track() stamps its event and leaves the gate (checks, scrubbing, the queue) to one pass at the end
// of the task: these tests pin that nothing which must see a task's events misses them.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { resolveConfig } from '../../src/config';
import { eventId } from '../../src/core/id';
import { gateStats } from '../../src/core/privacy';
import { clear } from '../../src/core/storage';
import { createTracker } from '../../src/tracker';
import type { Context, TrackletOptions } from '../../src/core/contract';
import type { TrackletEvent } from '../../src/types';

let sent: [string, unknown][] = [];
let tracker: ReturnType<typeof createTracker>;
/** The events of every request and beacon so far, in order (bodies parsed as the relay reads them). */
const events = (): TrackletEvent[] =>
  sent.flatMap(([, body]) => (JSON.parse(body as string) as { events: TrackletEvent[] }).events);

const start = (options: Partial<TrackletOptions> = {}) => {
  const config = resolveConfig(
    {
      endpoint: '/collect',
      site: 's',
      flushInterval: 0,
      includeLocal: true,
      autoPageview: false,
      ...options,
    },
    false,
  )!;
  tracker = createTracker(config);
};

beforeEach(() => {
  // Storage and its copy in memory (where a consent choice of an earlier case would linger).
  clear();
  localStorage.clear();
  history.replaceState({}, '', '/page?token=secret');
  sent = [];
  Object.defineProperty(navigator, 'sendBeacon', {
    value: (url: string, body: unknown) => (sent.push([url, body]), true),
    configurable: true,
  });
  vi.stubGlobal(
    'fetch',
    vi.fn(
      (url: string, init: RequestInit) => (
        sent.push([url, init.body]),
        Promise.resolve(new Response(null, { status: 204 }))
      ),
    ),
  );
});
afterEach(() => {
  tracker.stop!();
  vi.unstubAllGlobals();
});

describe('events tracked in a task', () => {
  it('are beaconed, scrubbed, when the page hides in the same task', () => {
    start();
    tracker.track('last', { n: 1 });
    dispatchEvent(new Event('pagehide'));
    const last = events().find((event) => event.type == 'event' && event.name == 'last');
    expect(last).toMatchObject({ properties: { n: 1 }, url: expect.stringContaining('token=') });
    expect(last!.url).not.toContain('secret');
  });

  it('go out with a flush() called in the same task', async () => {
    start();
    tracker.track('before-flush');
    await tracker.flush();
    expect(events().map((event) => (event as { name?: string }).name)).toContain('before-flush');
  });

  it('keep their order with a pageview and an identify of the same task', () => {
    start();
    tracker.track('one');
    tracker.page();
    tracker.track('two');
    tracker.identify('user-1');
    dispatchEvent(new Event('pagehide'));
    expect(events().map((event) => (event as { name?: string }).name || event.type)).toEqual([
      'one',
      'pageview',
      'two',
      'identify',
    ]);
    const ids = events().map((event) => event.id);
    expect([...ids].sort()).toEqual(ids);
  });

  it('are sent by a grant in the same task while consent is required', () => {
    start({ consent: 'required' });
    tracker.track('consented');
    tracker.consent(true);
    dispatchEvent(new Event('pagehide'));
    expect(events().map((event) => (event as { name?: string }).name)).toEqual(['consented']);
  });

  it('are dropped, not sent, by a denial in the same task while consent is required', async () => {
    start({ consent: 'required' });
    const dropped = gateStats.dropped;
    tracker.track('unconsented');
    tracker.consent(false);
    await Promise.resolve();
    dispatchEvent(new Event('pagehide'));
    expect(events()).toEqual([]);
    expect(gateStats.dropped).toBe(dropped + 1);
  });

  it("meet a consent platform's choice (a capture's consent) as they meet the page's consent()", async () => {
    /** What a denial in the task of a track() leaves sent and dropped, given how it is made. */
    const outcome = async (deny: (context: Context) => void) => {
      clear();
      localStorage.clear();
      sent = [];
      let context!: Context;
      start({ consent: 'required', capture: [(c) => void (context = c)] });
      tracker.consent(true);
      await new Promise((done) => setTimeout(done));
      const dropped = gateStats.dropped;
      tracker.track('before-the-choice');
      deny(context);
      await new Promise((done) => setTimeout(done));
      dispatchEvent(new Event('pagehide'));
      const result = [events().map((event) => event.type), gateStats.dropped - dropped];
      tracker.stop!();
      return result;
    };
    const byPage = await outcome(() => tracker.consent(false));
    const byPlatform = await outcome((context) => context.consent!(false));
    expect(byPlatform).toEqual(byPage);
    start();
  });

  it('reach the queue by the end of the task, without a flush', async () => {
    start();
    tracker.track('queued');
    expect(Object.keys(localStorage).filter((key) => key.startsWith('tracklet:o:'))).toEqual([]);
    await new Promise((done) => setTimeout(done));
    expect(Object.keys(localStorage).some((key) => key.startsWith('tracklet:o:'))).toBe(true);
  });
});

describe('event ids', () => {
  it('are a 12-character page prefix and a 9-digit count, in call order', () => {
    const [a, b] = [eventId(), eventId()];
    expect(a).toMatch(/^[\w-]{12}\d{9}$/);
    expect(b.slice(0, 12)).toBe(a.slice(0, 12));
    expect(+b.slice(12)).toBe(+a.slice(12) + 1);
  });
});
