/**
 * The Node adapter answers POST /collect itself, as plain data (server.ts, collectFast): the same
 * status, headers and body as the web-standard handler gives for the same request.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/relay/config';
import { createHandler } from '../../src/relay/handler';
import { createMetrics } from '../../src/relay/metrics';
import { serve, type Served } from '../../src/relay/server';
import { openSqliteStore } from '../../src/relay/sqlite';
import { pageview } from './helpers';

const config = resolveConfig({
  sites: { shop: { origins: ['https://shop.example'], destinations: [] } },
});
const served: Served[] = [];
afterEach(async () => {
  await Promise.all(served.splice(0).map((s) => s.close()));
});

const ev = pageview();
const cases: [string, string, Record<string, string>][] = [
  ['a good body', JSON.stringify({ v: 1, site: 'shop', sentAt: Date.now(), events: [ev] }), {}],
  [
    'the same body again (duplicates)',
    JSON.stringify({ v: 1, site: 'shop', sentAt: Date.now(), events: [ev] }),
    {},
  ],
  [
    'a v2 body',
    JSON.stringify({
      v: 2,
      site: 'shop',
      sentAt: Date.now(),
      common: { anonymousId: 'a-2' },
      events: [{ ...pageview(), anonymousId: undefined }],
    }),
    {},
  ],
  ['not JSON', '{nope', {}],
  [
    'an unknown site',
    JSON.stringify({ v: 1, site: 'elsewhere', sentAt: Date.now(), events: [pageview()] }),
    {},
  ],
  [
    'a foreign origin',
    JSON.stringify({ v: 1, site: 'shop', sentAt: Date.now(), events: [pageview()] }),
    { Origin: 'https://evil.example' },
  ],
  ['a form content type', 'a=1', { 'Content-Type': 'application/x-www-form-urlencoded' }],
  [
    'one bad event of two',
    JSON.stringify({
      v: 1,
      site: 'shop',
      sentAt: Date.now(),
      events: [pageview(), { ...pageview(), anonymousId: 5 }],
    }),
    {},
  ],
];

describe('POST /collect through the Node adapter', () => {
  it('answers as the handler does, and counts the requests in the metrics', async () => {
    const store = openSqliteStore();
    const metrics = createMetrics(store);
    const handler = createHandler({ config, store, metrics });
    const relay = await serve(handler);
    served.push(relay);
    const viaHandler = createHandler({ config, store: openSqliteStore() });
    for (const [name, text, extra] of cases) {
      const headers = {
        'Content-Type': 'text/plain;charset=UTF-8',
        Origin: 'https://shop.example',
        ...extra,
      };
      const overHttp = await fetch(relay.url + '/collect', { method: 'POST', headers, body: text });
      const direct = await viaHandler(
        new Request('http://127.0.0.1/collect', { method: 'POST', headers, body: text }),
        { remoteAddress: '127.0.0.1' },
      );
      expect(overHttp.status, name).toBe(direct.status);
      expect(await overHttp.json(), name).toEqual(await direct.json());
      for (const header of [
        'content-type',
        'cache-control',
        'access-control-allow-origin',
        'vary',
        'access-control-expose-headers',
      ])
        expect(overHttp.headers.get(header), `${name}: ${header}`).toBe(direct.headers.get(header));
    }
    const text = await metrics.text();
    expect(text).toMatch(
      /tracklet_http_requests_total\{[^}]*route="\/collect"[^}]*status="200"[^}]*\} 4/,
    );
    expect(text).toMatch(
      /tracklet_http_requests_total\{[^}]*route="\/collect"[^}]*status="400"[^}]*\} 1/,
    );
    expect(text).toMatch(
      /tracklet_http_requests_total\{[^}]*route="\/collect"[^}]*status="403"[^}]*\} 2/,
    );
  });

  it('refuses a second Host header before reading the body, as for every route', async () => {
    const handler = createHandler({ config, store: openSqliteStore() });
    const relay = await serve(handler);
    served.push(relay);
    const { connect } = await import('node:net');
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(relay.url).port), '127.0.0.1', () =>
        socket.write(
          'POST /collect HTTP/1.1\r\nHost: a.example\r\nHost: ' +
            'b.example\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}',
        ),
      );
      let text = '';
      socket
        .on('data', (d) => (text += d))
        .on('end', () => resolve(text))
        .on('error', reject);
    });
    const status = Number(answer.split(' ')[1]);
    expect(answer).toContain('more than one Host header');
    expect(status).toBe(400);
  });
});
