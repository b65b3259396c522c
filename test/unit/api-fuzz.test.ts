import fc from 'fast-check';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { flush, identify, init, page, track } from '../../src/index';
import type { Batch, TrackletEvent } from '../../src/types';
import { value } from './fuzz-values';

const bodies: string[] = [];

beforeAll(() => {
  localStorage.clear();
  vi.spyOn(console, 'warn').mockImplementation(() => {});
  vi.stubGlobal(
    'fetch',
    vi.fn(async (_url: string, init: RequestInit) => {
      bodies.push(init.body as string);
      return new Response(null, { status: 204 });
    }),
  );
  init({
    endpoint: 'https://c.example/collect',
    site: 's',
    flushInterval: 0,
    batchSize: 100,
    includeLocal: true,
  });
});

const call = fc.oneof(
  fc.tuple(fc.constant('track' as const), value, value),
  fc.tuple(fc.constant('page' as const), value, value),
  fc.tuple(fc.constant('identify' as const), value, value),
  fc.tuple(
    fc.constant('good' as const),
    fc.string({ minLength: 1 }),
    fc.dictionary(fc.string(), value, { maxKeys: 5 }),
  ),
);

let serial = 0;

describe('public API under random input', () => {
  it('never throws, sends only valid JSON, and keeps every good event', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(call, { maxLength: 12 }), async (calls) => {
        bodies.length = 0;
        const good: string[] = [];
        for (const [method, first, second] of calls) {
          if (method == 'good') {
            const name = `good-${serial++}-${first}`;
            good.push(name);
            expect(() => track(name, second as never)).not.toThrow();
          } else if (method == 'track')
            expect(() => track(first as never, second as never)).not.toThrow();
          else if (method == 'page') expect(() => page(first as never)).not.toThrow();
          else expect(() => identify(first as never, second as never)).not.toThrow();
        }
        await flush();
        const sent = bodies.flatMap((body) => (JSON.parse(body) as Batch).events);
        for (const event of sent)
          expect(event).toMatchObject({ id: expect.any(String), type: expect.any(String) });
        const names = new Set(sent.map((event: TrackletEvent) => 'name' in event && event.name));
        for (const name of good) expect(names).toContain(name);
      }),
      { numRuns: 400 },
    );
  }, 60_000);
});
