// The script tag's public API under random input: whatever a page passes to `tracklet.track`,
// `page`, `identify` or `tracklet(method, …)`, nothing throws into it, every body sent is JSON of
// complete events, and the good events sent among the bad ones all arrive.
import fc from 'fast-check';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { Batch, TrackletEvent } from '../../../src/types';
import { value } from '../fuzz-values';
import { loadTag, type Tracklet } from './load';

const bodies: string[] = [];
let tracklet: Tracklet;

beforeAll(async () => {
  localStorage.clear();
  vi.spyOn(console, 'warn').mockImplementation(() => {});
  vi.stubGlobal(
    'fetch',
    vi.fn(async (_url: string, init: RequestInit) => {
      bodies.push(init.body as string);
      return new Response(null, { status: 204 });
    }),
  );
  tracklet = await loadTag({ 'data-batch-size': '100' });
});

const call = fc.oneof(
  fc.tuple(fc.constantFrom('track', 'page', 'identify'), value, value),
  // Through the queue function, with any method name: unknown ones are kept or warned about.
  fc.tuple(fc.constant('call'), fc.oneof(fc.constantFrom('track', 'page'), fc.string()), value),
  fc.tuple(
    fc.constant('good'),
    fc.string({ minLength: 1 }),
    fc.dictionary(fc.string(), value, { maxKeys: 5 }),
  ),
);

let serial = 0;

describe('the first file under random input', () => {
  it('never throws, sends only JSON of complete events, and keeps every good event', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(call, { maxLength: 12 }), async (calls) => {
        bodies.length = 0;
        const good: string[] = [];
        for (const [method, first, second] of calls) {
          if (method == 'good') {
            const name = `good-${serial++}-${first}`;
            good.push(name);
            expect(() => tracklet.track(name, second)).not.toThrow();
          } else if (method == 'call') expect(() => tracklet(first, second)).not.toThrow();
          else expect(() => tracklet[method](first, second)).not.toThrow();
        }
        await tracklet.flush();
        const sent = bodies.flatMap((body) => (JSON.parse(body) as Batch).events);
        for (const event of sent)
          expect(event).toMatchObject({ id: expect.any(String), type: expect.any(String) });
        const names = new Set(sent.map((event: TrackletEvent) => 'name' in event && event.name));
        for (const name of good) expect(names).toContain(name);
      }),
      { numRuns: 300 },
    );
  }, 60_000);
});
