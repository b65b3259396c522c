import { afterEach, describe, expect, it, vi } from 'vitest';
import { beacon, byteLength, MAX_BODY, post, runs } from '../../src/core/transport';

afterEach(() => vi.unstubAllGlobals());

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

  it('splits items into runs that fit one body, in order', () => {
    const items = Array.from({ length: 300 }, (_, i) => i);
    const result = runs(items, () => 1000, 50);
    expect(result.length).toBe(Math.ceil(300 / Math.floor((MAX_BODY - 50) / 1001)));
    for (const run of result) expect(50 + run.length * 1001).toBeLessThanOrEqual(MAX_BODY);
    expect(result.flat()).toEqual(items);
  });

  it('gives an item too large for any body a run of its own', () => {
    expect(runs([1, MAX_BODY, 2], (n) => n, 50)).toEqual([[1], [MAX_BODY], [2]]);
  });

  it('posts text/plain with keepalive, without credentials or custom headers (no preflight)', async () => {
    const fetch = vi.fn(async () => new Response(null, { status: 204 }));
    vi.stubGlobal('fetch', fetch);
    expect((await post('https://c.example/collect', '{"v":1}'))?.status).toBe(204);
    expect(fetch).toHaveBeenCalledWith('https://c.example/collect', {
      method: 'POST',
      body: '{"v":1}',
      keepalive: true,
      credentials: 'omit',
    });
  });

  it.each([
    ['rejects (network error, keepalive quota)', () => Promise.reject(new TypeError('failed'))],
    [
      'throws',
      () => {
        throw new TypeError('no fetch');
      },
    ],
  ])('resolves to undefined when fetch %s', async (_, fetch) => {
    vi.stubGlobal('fetch', fetch);
    expect(await post('https://c.example/collect', 'body')).toBeUndefined();
  });

  it.each([
    ['accepts', () => true, true],
    ['refuses (quota)', () => false, false],
    [
      'throws',
      () => {
        throw new TypeError('quota');
      },
      false,
    ],
    ['is missing', undefined, false],
  ])('reports whether sendBeacon %s', (_, sendBeacon, expected) => {
    vi.stubGlobal('navigator', { sendBeacon });
    expect(beacon('https://c.example/collect', 'body')).toBe(expected);
  });
});
