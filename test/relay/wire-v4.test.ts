/**
 * Wire version 4 beside versions 1 and 2: scripts of three releases, plain and gzip bodies, into
 * one relay; the store and the webhook see the same canonical events. And gzip bodies that do not
 * inflate, or inflate past the limit, are refused with a reason.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startRelay, type Relay } from '../../src/relay/index';
import { canonicalBody, decodeBody } from '../../src/relay/wire';
import { encodeBody as encodeObject } from '../../src/core/encode';
import { wireBatch } from '../../src/core/outbox';
import type { TrackletEvent } from '../../src/types';
import { until, UA } from './helpers';
import { webhookMock, type Mock } from './mocks';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

/** One visit as a script sends it: its events carry ids `<prefix>…`, one per script. */
const visit = (prefix: string, sentAt: number): TrackletEvent[] => {
  const base = {
    anonymousId: 'anon-' + prefix,
    sessionId: 'sess-' + prefix,
    url: 'https://shop.example/pricing?plan=pro',
    path: '/pricing',
  };
  const id = (n: number) => `${prefix}-page-${n}`;
  return [
    {
      ...base,
      type: 'pageview',
      id: id(1),
      timestamp: sentAt - 9_000,
      title: 'Pricing',
      referrer: '',
    },
    {
      ...base,
      type: 'event',
      id: id(2),
      timestamp: sentAt - 8_000,
      name: 'cta',
      properties: { n: 1 },
    },
    { ...base, type: 'event', id: id(3), timestamp: sentAt - 7_000, name: 'cta', userId: 'u-7' },
    {
      ...base,
      type: 'vital',
      id: id(4),
      timestamp: sentAt - 6_000,
      metricName: 'LCP',
      metricValue: 1234.5,
      rating: 'good',
      metricId: 'v5-1',
      navigationType: 'navigate',
    },
    {
      ...base,
      type: 'vital',
      id: id(5),
      timestamp: sentAt - 5_000,
      metricName: 'CLS',
      metricValue: 0.02,
      rating: 'good',
      metricId: 'v5-2',
      navigationType: 'reload',
    },
    {
      ...base,
      type: 'error',
      id: id(6),
      timestamp: sentAt - 4_000,
      message: 'boom',
      errorType: 'Error',
    },
    {
      ...base,
      type: 'engagement',
      id: id(7),
      timestamp: sentAt - 3_000,
      engagementTime: 4100,
      scrollDepth: 80,
      interactionCount: 2,
      pageviewId: id(1),
    },
    {
      ...base,
      type: 'pageview',
      id: id(8),
      timestamp: sentAt - 2_000,
      url: 'https://shop.example/app#/cart',
      path: '/app#/cart',
      title: 'Cart',
      referrer: 'https://shop.example/pricing?plan=pro',
    },
  ] as TrackletEvent[];
};

/** The version-4 text of a body, as the outbox serialises it. */
const encodeBody = (site: string, events: TrackletEvent[], sentAt?: number) =>
  JSON.stringify(encodeObject(site, events, sentAt));

const send = (url: string, body: string | Buffer) =>
  fetch(url + '/collect', {
    method: 'POST',
    headers: { 'Content-Type': 'text/plain', Origin: 'https://shop.example', 'User-Agent': UA },
    body: typeof body == 'string' ? body : new Uint8Array(body),
  });

describe('wire version 4 from the tracker', () => {
  it('rebuilds every event exactly, as the relay decodes it', () => {
    const sentAt = Date.now();
    const events = visit('x', sentAt);
    const text = encodeBody('shop', events, sentAt);
    const body = JSON.parse(text);
    expect(body).toMatchObject({ v: 4, site: 'shop', sentAt, ids: 'x-page-' });
    // Shared once, derived or defaulted: not repeated per event.
    expect(text.match(/anon-x/g)).toHaveLength(1);
    expect(text).not.toContain('"timestamp"');
    expect(text).not.toContain('"/pricing"');
    expect(text).not.toContain('"navigate"');
    expect(text).toContain('"/app#/cart"');
    expect(canonicalBody(body)).toEqual({ body: { v: 1, site: 'shop', sentAt, events } });
    expect(text.length).toBeLessThan(
      JSON.stringify(wireBatch('shop', events, sentAt)).length * 0.8,
    );
  });

  it('keeps an event without a field out of a shared value, and odd timestamps as they are', () => {
    const sentAt = 1_000_000;
    const events = visit('y', sentAt).slice(1, 4);
    delete events[1].userId;
    (events[2] as { userId?: string }).userId = undefined;
    events[0].userId = 'u-1';
    events[1].timestamp = 999.5;
    const body = JSON.parse(encodeBody('shop', events, sentAt));
    const rebuilt = (canonicalBody(body) as { body: { events: object[] } }).body.events;
    expect(rebuilt).toEqual(JSON.parse(JSON.stringify(events)));
  });
});

describe('versions 1, 2 and 4, plain and gzip, into one relay', () => {
  let relay: Relay;
  let hook: Mock;

  beforeAll(async () => {
    hook = await webhookMock();
    relay = await startRelay({
      config: {
        sites: {
          shop: {
            origins: ['https://shop.example'],
            destinations: [{ type: 'webhook', url: hook.url + '/hook' }],
          },
        },
      },
      pollMs: 20,
    });
  });

  afterAll(async () => {
    await relay?.close();
    await hook?.close();
  });

  it('stores and forwards identical canonical events whichever script sent them', async () => {
    const sentAt = Date.now();
    const bodies: [string, string | Buffer][] = [
      ['v1', JSON.stringify({ v: 1, site: 'shop', sentAt, events: visit('v1', sentAt) })],
      ['v2', JSON.stringify(wireBatch('shop', visit('v2', sentAt), sentAt))],
      ['v4', encodeBody('shop', visit('v4', sentAt), sentAt)],
      ['gz', gzipSync(encodeBody('shop', visit('gz', sentAt), sentAt))],
      ['g2', gzipSync(JSON.stringify(wireBatch('shop', visit('g2', sentAt), sentAt)))],
    ];
    // Interleaved, as browsers with cached and new scripts send them.
    for (const [, body] of bodies) {
      const response = await send(relay.url, body);
      expect(await response.json()).toEqual({ ok: true, accepted: 8, duplicates: 0 });
    }
    const stored = await relay.store.events(1000);
    /** A script's stored events, with what tells the scripts apart taken out. */
    const of = (prefix: string) =>
      stored
        .filter((s) => s.event.id.startsWith(prefix + '-'))
        .sort((a, b) => a.event.timestamp - b.event.timestamp)
        .map((s) => {
          const strip = (value: unknown) =>
            typeof value == 'string' ? value.replace(prefix, '*') : value;
          const event = Object.fromEntries(
            Object.entries(s.event).map(([key, value]) => [key, strip(value)]),
          );
          return { ...s, receivedAt: 0, time: s.time - s.receivedAt, skewMs: 0, event };
        });
    expect(of('v1')).toHaveLength(8);
    for (const [prefix] of bodies.slice(1)) expect(of(prefix)).toEqual(of('v1'));
    // Field for field what the script tracked.
    expect(
      stored
        .filter((s) => s.event.id.startsWith('gz-'))
        .map((s) => s.event)
        .sort((a, b) => a.timestamp - b.timestamp),
    ).toEqual(visit('gz', sentAt));

    // The webhook receives canonical events for every version.
    const forwarded = () =>
      hook.accepted.flatMap((r) => (r.body as { events: TrackletEvent[] }).events);
    await until(() => forwarded().length >= 40);
    expect(hook.violations).toEqual([]);
    for (const [prefix] of bodies)
      expect(forwarded().filter((e) => e.id.startsWith(prefix + '-'))).toEqual(
        expect.arrayContaining(visit(prefix, sentAt)),
      );
  });

  it('refuses a gzip body that inflates past the body limit (a zip bomb), naming why', async () => {
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 32));
    expect(bomb.length).toBeLessThan(131072);
    const response = await send(relay.url, bomb);
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({
      error: 'body_too_large',
      field: '(body)',
      message: 'the gzip body inflates past the limit of 131072 bytes',
    });
  });

  it('refuses a body that starts as gzip but does not inflate', async () => {
    const broken = gzipSync(encodeBody('shop', visit('br', Date.now()))).subarray(0, 40);
    const response = await send(relay.url, broken);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_body', field: '(body)' });
    expect(await relay.store.events(1000)).not.toContainEqual(
      expect.objectContaining({ event: expect.objectContaining({ id: 'br-page-1' }) }),
    );
  });

  it('decodes plain text as UTF-8 and stops inflating at the limit', () => {
    expect(decodeBody(Buffer.from('{"é":1}'), 10)).toEqual({ text: '{"é":1}' });
    expect(decodeBody(gzipSync('x'.repeat(100)), 99)).toMatchObject({ status: 413 });
    expect(decodeBody(gzipSync('x'.repeat(100)), 100)).toEqual({ text: 'x'.repeat(100) });
  });
});
