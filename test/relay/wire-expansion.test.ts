/**
 * Version 2 and 4 bodies repeat `common` into each event. A hostile body can ask for that to be
 * done 40,000 times (a 122 KB text, 1 KB gzip) before the envelope's limit of 500 events is
 * checked: the event loop stopped for seconds, every other request waiting.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { encodeBody } from '../../src/core/encode';
import { wireBatch } from '../../src/core/outbox';
import { MAX_BODY } from '../../src/core/transport';
import { startRelay, type Relay } from '../../src/relay/index';
import { canonicalBody } from '../../src/relay/wire';
import type { TrackletEvent } from '../../src/types';
import { UA } from './helpers';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

/** `common` of 200 keys (the most an event may have) and `n` empty events. */
const wide = (v: number, n: number) => {
  const common: Record<string, number> = {};
  for (let i = 0; i < 200; i++) common['k' + i] = i;
  return {
    v,
    site: 'shop',
    sentAt: Date.now(),
    ids: '',
    common,
    events: Array.from({ length: n }, () => ({})),
  };
};

describe('a body of more events than the envelope takes', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await startRelay({
      config: {
        sites: {
          shop: {
            origins: ['https://shop.example'],
            destinations: [{ type: 'webhook', url: 'http://127.0.0.1:9/hook' }],
          },
        },
      },
    });
  });
  afterAll(() => relay?.close());

  it('is refused for its count before common is repeated into each event', () => {
    for (const v of [2, 4]) {
      const started = performance.now();
      const result = canonicalBody(wide(v, 40_000)) as { body: { events: unknown[] } };
      // Repeating 200 keys into 40,000 events took 2-3 s; leaving them as they came, well under 1 ms.
      expect(performance.now() - started).toBeLessThan(250);
      expect(result.body.events.length).toBe(40_000);
      expect(result.body.events[0]).toEqual({});
    }
  });

  it('gets a 400 naming events at once, over HTTP, while /health keeps answering', async () => {
    const text = JSON.stringify(wide(4, 40_000));
    expect(text.length).toBeLessThan(128 * 1024);
    const started = performance.now();
    const response = await fetch(relay.url + '/collect', {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', Origin: 'https://shop.example', 'User-Agent': UA },
      body: text,
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: 'invalid_body',
      field: 'events',
      message: 'Invalid length: Expected <=500 but received 40000',
    });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect((await fetch(relay.url + '/health')).status).toBe(200);
  });
});

/**
 * The tracker sizes a body as its complete (version 1) events, at most 32 KiB: rebuilt, no body it
 * sends is larger. A hostile one of 1.5 KB gzip repeated a 15.6 KB `common` into 500 events, 8 MB
 * stored per request; 100 of them at once made PostgreSQL's grouped insert text longer than a
 * string can be, and every body of that turn was answered 503.
 */
describe('a body whose common, repeated into each event, passes the body limit', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await startRelay({
      config: {
        sites: {
          shop: {
            origins: ['https://shop.example'],
            destinations: [{ type: 'webhook', url: 'http://127.0.0.1:9/hook' }],
          },
        },
      },
    });
  });
  afterAll(() => relay?.close());

  const send = (body: object) =>
    fetch(relay.url + '/collect', {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', Origin: 'https://shop.example', 'User-Agent': UA },
      body: new Uint8Array(gzipSync(JSON.stringify(body))),
    });
  const visit = (n: number, url: string, sentAt: number): TrackletEvent[] =>
    Array.from({ length: n }, (_, i) => ({
      type: 'event',
      name: 'add_to_cart',
      id: `cart-${url.length}-${i}`,
      timestamp: sentAt - 1_000 + i,
      anonymousId: 'anon-1',
      sessionId: 'sess-1',
      url,
      path: new URL(url).pathname,
      properties: { sku: `sku-${i}` },
    }));

  it('is refused with a 413 naming common; nothing is stored', async () => {
    const properties: Record<string, string> = {};
    for (let i = 0; i < 60; i++) properties['k' + i] = 'v'.repeat(250);
    for (const v of [2, 4]) {
      const response = await send({
        v,
        site: 'shop',
        sentAt: Date.now(),
        ids: 'bomb-',
        common: {
          type: 'event',
          name: 'n',
          anonymousId: 'a',
          sessionId: 's',
          url: 'https://shop.example/',
          properties,
        },
        events: Array.from({ length: 500 }, (_, i) => ({ id: `${v}-${i}`, ago: 1 })),
      });
      expect(response.status).toBe(413);
      expect(await response.json()).toMatchObject({ error: 'body_too_large', field: 'common' });
    }
    expect(await relay.store.countEvents()).toBe(0);
  });

  it('takes the largest bodies the tracker sends, version 2 and 4', async () => {
    const sentAt = Date.now();
    // 32 KiB of complete events: few sharing a long URL, or many sharing a short one.
    const long = visit(14, 'https://shop.example/p?' + 'q'.repeat(1_800), sentAt);
    const many = visit(135, 'https://shop.example/catalogue?page=2&sort=price', sentAt);
    for (const events of [long, many]) expect(JSON.stringify(events).length).toBeLessThan(MAX_BODY);
    const answers = [];
    for (const body of [encodeBody('shop', long, sentAt), wireBatch('shop', many, sentAt)])
      answers.push(await (await send(body)).json());
    expect(answers).toEqual([
      { ok: true, accepted: 14, duplicates: 0 },
      { ok: true, accepted: 135, duplicates: 0 },
    ]);
  });
});
