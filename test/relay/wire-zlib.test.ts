/**
 * Bodies compressed by the tracker's own compressor (zlib with the preset dictionary, as the beacon
 * at page hide leaves): the relay inflates them to the same canonical events as plain and gzip
 * bodies, and refuses with a reason those that do not inflate, name another dictionary, or inflate
 * past the limit.
 */
import { deflateSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { encodeBody } from '../../src/core/encode';
import { deflate } from '../../src/core/deflate';
import { DICTIONARY } from '../../src/core/dictionary';
import { startRelay, type Relay } from '../../src/relay/index';
import { decodeBody } from '../../src/relay/wire';
import type { TrackletEvent } from '../../src/types';
import { UA } from './helpers';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

/** A page's events as the tracker tracks them, ids `<prefix>…`. */
const visit = (prefix: string, sentAt: number): TrackletEvent[] => {
  const base = {
    anonymousId: 'anon-' + prefix,
    sessionId: 'sess-' + prefix,
    url: 'https://shop.example/pricing',
    path: '/pricing',
  };
  return [
    {
      ...base,
      id: prefix + '-1',
      type: 'pageview',
      timestamp: sentAt - 900,
      title: 'Prix €',
      referrer: '',
    },
    {
      ...base,
      id: prefix + '-2',
      type: 'event',
      timestamp: sentAt - 800,
      name: 'cta',
      properties: { n: 1 },
    },
    {
      ...base,
      id: prefix + '-3',
      type: 'vital',
      timestamp: sentAt - 700,
      metricName: 'LCP',
      metricValue: 580,
      rating: 'good',
      metricId: 'v5-1796187229763-4577290473157',
      navigationType: 'navigate',
    },
    {
      ...base,
      id: prefix + '-4',
      type: 'engagement',
      timestamp: sentAt - 600,
      engagementTime: 840,
      scrollDepth: 91,
      interactionCount: 0,
      pageviewId: prefix + '-1',
    },
  ] as TrackletEvent[];
};

const text = (prefix: string, sentAt: number) =>
  JSON.stringify(encodeBody('shop', visit(prefix, sentAt), sentAt));
const zipped = (prefix: string, sentAt: number) =>
  deflate(new TextEncoder().encode(text(prefix, sentAt)));

const send = (url: string, body: string | Uint8Array) =>
  fetch(url + '/collect', {
    method: 'POST',
    headers: { 'Content-Type': 'text/plain', Origin: 'https://shop.example', 'User-Agent': UA },
    body: typeof body == 'string' ? body : new Uint8Array(body),
  });

describe('zlib bodies with the preset dictionary', () => {
  let relay: Relay;

  beforeAll(async () => {
    relay = await startRelay({
      config: { sites: { shop: { origins: ['https://shop.example'], destinations: [] } } },
      pollMs: 20,
    });
  });

  afterAll(async () => relay?.close());

  it('stores the same canonical events as a plain or gzip body of the same visit', async () => {
    const sentAt = Date.now();
    const bodies: [string, string | Uint8Array][] = [
      ['p9', text('p9', sentAt)],
      ['g9', gzipSync(text('g9', sentAt))],
      ['z9', zipped('z9', sentAt)],
    ];
    for (const [, body] of bodies) {
      const response = await send(relay.url, body);
      expect(await response.json()).toEqual({ ok: true, accepted: 4, duplicates: 0 });
    }
    const stored = await relay.store.events(1000);
    const of = (prefix: string) =>
      stored
        .map((s) => s.event)
        .filter((e) => e.id.startsWith(prefix + '-'))
        .sort((a, b) => a.timestamp - b.timestamp);
    // Field for field what the tracker tracked.
    expect(of('z9')).toEqual(visit('z9', sentAt));
    const strip = (prefix: string) =>
      JSON.parse(JSON.stringify(of(prefix)).replaceAll(prefix, '*'));
    expect(strip('z9')).toEqual(strip('p9'));
    expect(strip('z9')).toEqual(strip('g9'));
  });

  it('reads zlib from any zlib library: with the dictionary, and without one', () => {
    const body = text('any', 1_796_000_000_000);
    const withDictionary = deflateSync(body, { dictionary: Buffer.from(DICTIONARY) });
    expect(decodeBody(withDictionary, 1 << 20)).toEqual({ text: body });
    expect(decodeBody(deflateSync(body), 1 << 20)).toEqual({ text: body });
    expect(decodeBody(zipped('any', 1_796_000_000_000), 1 << 20)).toEqual({ text: body });
  });

  it('refuses a zlib body that inflates past the body limit (a zip bomb), naming why', async () => {
    const bomb = deflateSync(Buffer.alloc(50 * 1024 * 1024, 32), {
      dictionary: Buffer.from(DICTIONARY),
    });
    expect(bomb.length).toBeLessThan(131072);
    const response = await send(relay.url, bomb);
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({
      error: 'body_too_large',
      field: '(body)',
      message: 'the zlib body inflates past the limit of 131072 bytes',
    });
  });

  it('refuses a zlib body cut short, or naming a dictionary the relay does not know', async () => {
    const sentAt = Date.now();
    const cut = zipped('cu', sentAt).subarray(0, 40);
    const other = deflateSync(text('ot', sentAt), { dictionary: Buffer.from('{"v":4,"other"') });
    for (const body of [cut, other]) {
      const response = await send(relay.url, body);
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        error: 'invalid_body',
        field: '(body)',
        message: 'the body starts as zlib but does not inflate',
      });
    }
    const ids = (await relay.store.events(1000)).map((s) => s.event.id);
    expect(ids.filter((id) => /^(cu|ot)-/.test(id))).toEqual([]);
  });
});
