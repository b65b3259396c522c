import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { resolveConfig } from '../../src/config';
import { createOutbox } from '../../src/core/outbox';
import { MAX_BODY, byteLength } from '../../src/core/transport';
import type { Batch, TrackletEvent } from '../../src/types';

let serial = 0;
const event = (name: string): TrackletEvent => ({
  id: 'id' + serial++,
  type: 'event',
  name,
  timestamp: Date.now(),
  anonymousId: 'a',
  sessionId: 's',
  url: 'https://s.example/',
  path: '/',
});

beforeEach(() => {
  localStorage.clear();
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('outbox sizes', () => {
  it.each([
    ['ASCII', 'e'.repeat(300)],
    ['two-byte', 'é'.repeat(300)],
    ['three-byte', '€'.repeat(300)],
    ['four-byte', '😀'.repeat(150)],
  ])('stores and sends %s events in segments and bodies within the cap', async (_, name) => {
    const texts: string[] = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (_url: string, init: RequestInit) => {
        texts.push(init.body as string);
        return new Response(null, { status: 204 });
      }),
    );
    const outbox = createOutbox(
      resolveConfig({ endpoint: 'https://c.example/collect', site: 's', compress: false }, false)!,
    );
    const events = Array.from({ length: 400 }, () => event(name));
    outbox.add(events);
    for (const key of Object.keys(localStorage))
      expect(byteLength(localStorage.getItem(key)!)).toBeLessThanOrEqual(MAX_BODY);
    await outbox.drain();
    for (const text of texts) expect(byteLength(text)).toBeLessThanOrEqual(MAX_BODY);
    // Bodies are filled: no more of them than the exact bytes need, plus one.
    const bytes = events.reduce((sum, e) => sum + byteLength(JSON.stringify(e)) + 1, 0);
    expect(texts.length).toBeLessThanOrEqual(Math.ceil(bytes / (MAX_BODY - 200)) + 1);
    const ids = texts.flatMap((text) => (JSON.parse(text) as Batch).events.map((e) => e.id));
    expect(ids).toEqual(events.map((e) => e.id));
  });

  it('keeps an event whose length looks large but whose bytes fit, and drops one over the cap', () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const outbox = createOutbox(
      resolveConfig({ endpoint: 'https://c.example/collect', site: 's' }, false)!,
    );
    const fits = event('e'.repeat(20_000));
    const over = event('é'.repeat(17_000));
    outbox.add([fits, over]);
    const stored = Object.keys(localStorage).flatMap((key) =>
      (JSON.parse(localStorage.getItem(key)!) as unknown[]).slice(1),
    );
    expect(stored.map((e) => (e as TrackletEvent).id)).toEqual([fits.id]);
    expect(console.warn).toHaveBeenCalledTimes(1);
  });
});
