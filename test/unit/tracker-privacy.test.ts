import { beforeAll, describe, expect, it, vi } from 'vitest';
import { resolveConfig } from '../../src/config';
import type { Capture, Context } from '../../src/core/contract';
import { createTracker } from '../../src/tracker';

// One tracker for the file: the gate sits between every capture's emit and the queue.
let beacon: ReturnType<typeof vi.fn<(url: string, body: unknown) => boolean>>;
let context: Context;
let tracker: ReturnType<typeof createTracker>;
const capture: Capture = (c) => {
  context = c;
};
const bodies = () => beacon.mock.calls.map((call) => call[1] as string);

beforeAll(() => {
  localStorage.clear();
  history.replaceState({}, '', '/welcome?email=bob@example.com&utm_source=x&token=abc-private');
  beacon = vi.fn((_url: string, _body: unknown) => true);
  Object.defineProperty(navigator, 'sendBeacon', { value: beacon, configurable: true });
  // The outbox posts with fetch and beacons at page hide: both are recorded as (url, body).
  vi.stubGlobal(
    'fetch',
    vi.fn(
      (url: string, init: RequestInit) => (
        beacon(url, init.body),
        Promise.resolve(new Response(null, { status: 204 }))
      ),
    ),
  );
  const config = resolveConfig(
    {
      endpoint: '/collect',
      site: 's',
      capture: [capture],
      flushInterval: 0,
      includeLocal: true,
      consent: 'required',
    },
    false,
  )!;
  tracker = createTracker(config);
});

describe('the privacy gate in the tracker', () => {
  it('holds every event, from the API and from captures, until consent; stores nothing meanwhile', () => {
    context.emit({
      type: 'error',
      message: 'Cannot load https://api.example/u?auth=s3cr3t for bob@example.com',
      stack: 'Error: x\n    at load (https://s.example/app.js?key=k9-private:1:2)',
      filename: 'https://s.example/app.js?key=k9-private',
      errorType: 'Error',
    });
    tracker.track('clicked');
    dispatchEvent(new Event('pagehide'));
    expect(beacon).not.toHaveBeenCalled();
    expect(localStorage.length).toBe(0);
  });

  it(
    'on consent(true) sends them with e-mail addresses ' +
      'and tokens scrubbed from every field, campaign kept',
    async () => {
      tracker.consent(true);
      await tracker.flush();
      const text = bodies().join('\n');
      const events = bodies().flatMap((body) => JSON.parse(body).events);
      expect(events.map((event) => event.type)).toEqual(['pageview', 'error', 'event']);
      for (const secret of ['bob@example.com', 'abc-private', 's3cr3t', 'k9-private'])
        expect(text).not.toContain(secret);
      expect(events[0].attribution).toEqual({ utm_source: 'x' });
      expect(events[1]).toMatchObject({
        message: 'Cannot load https://api.example/u?auth=[redacted] for [redacted]',
        filename: 'https://s.example/app.js?key=[redacted]',
      });
      expect(localStorage.getItem('tracklet:consent')).toBe('1');
      expect(localStorage.getItem('tracklet:aid')).toBe(events[0].anonymousId);
    },
  );
});
