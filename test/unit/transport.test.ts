import { afterEach, describe, expect, it, vi } from 'vitest';
import { byteLength, MAX_BODY, pack, send } from '../../src/core/transport';
import type { TrackletEvent } from '../../src/types';

afterEach(() => vi.unstubAllGlobals());

const event = (i: number, text = ''): TrackletEvent => ({
  id: 'id' + i,
  type: 'event',
  name: 'e' + text,
  timestamp: i,
  anonymousId: 'a',
  sessionId: 's',
  url: 'https://s.example/',
  path: '/',
});

describe('transport', () => {
  it.each([
    ['abc', 3],
    ['é', 2],
    ['€', 3],
    ['😀', 4],
    ['a😀é€', 10],
  ])('counts UTF-8 bytes of %s', (text, bytes) => {
    expect(byteLength(text)).toBe(bytes);
    expect(byteLength(text)).toBe(new TextEncoder().encode(text).length);
  });

  it('splits events into bodies under 64 KiB, in order, each valid JSON', () => {
    const events = Array.from({ length: 300 }, (_, i) => event(i, 'x'.repeat(1000) + '€'));
    const { bodies, sent, tooLarge } = pack('site', events);
    expect(bodies.length).toBeGreaterThan(4);
    expect(tooLarge).toEqual([]);
    for (const body of bodies) expect(byteLength(body)).toBeLessThanOrEqual(MAX_BODY);
    const parsed = bodies.map((body) => JSON.parse(body));
    expect(parsed[0]).toMatchObject({ v: 1, site: 'site', sentAt: expect.any(Number) });
    expect(parsed.flatMap((body) => body.events.map((e: TrackletEvent) => e.id))).toEqual(events.map((e) => e.id));
    expect(sent.flat()).toEqual(events);
  });

  it('sets aside an event that alone exceeds the limit', () => {
    const big = event(1, 'x'.repeat(MAX_BODY));
    const { bodies, tooLarge } = pack('site', [event(0), big, event(2)]);
    expect(tooLarge).toEqual([big]);
    expect(JSON.parse(bodies[0]).events.map((e: TrackletEvent) => e.id)).toEqual(['id0', 'id2']);
  });

  it('sends with sendBeacon as a string (text/plain, no preflight)', () => {
    const beacon = vi.fn(() => true);
    const fetch = vi.fn();
    vi.stubGlobal('navigator', { sendBeacon: beacon });
    vi.stubGlobal('fetch', fetch);
    expect(send('https://c.example/collect', '{"v":1}')).toBe(true);
    expect(beacon).toHaveBeenCalledWith('https://c.example/collect', '{"v":1}');
    expect(fetch).not.toHaveBeenCalled();
  });

  it.each([
    ['refuses', () => false],
    ['throws', () => {
      throw new TypeError('quota');
    }],
  ])('falls back to keepalive fetch when sendBeacon %s', (_, beacon) => {
    const fetch = vi.fn(() => Promise.resolve(new Response()));
    vi.stubGlobal('navigator', { sendBeacon: beacon });
    vi.stubGlobal('fetch', fetch);
    expect(send('https://c.example/collect', 'body')).toBe(true);
    expect(fetch).toHaveBeenCalledWith('https://c.example/collect', expect.objectContaining({ keepalive: true, body: 'body', method: 'POST' }));
  });

  it('falls back to fetch where sendBeacon is missing, and reports failure when both refuse', () => {
    vi.stubGlobal('navigator', {});
    vi.stubGlobal('fetch', () => {
      throw new TypeError('keepalive quota');
    });
    expect(send('https://c.example/collect', 'body')).toBe(false);
  });
});
