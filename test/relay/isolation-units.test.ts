/**
 * No event poisons a batch, in-process: per-event checks at ingest, mapping failures isolated,
 * batch refusals narrowed down, Retry-After read, errors without secrets, Growlytics attribute
 * names that collide with Object's own members. The same behaviours over HTTP: isolation.test.ts.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from '../../src/relay/config';
import {
  MAX_RETRY_AFTER_MS,
  parseRetryAfter,
  postJson,
  redact,
  startWorker,
} from '../../src/relay/delivery';
import {
  growlytics,
  MAX_REMEMBERED,
  repairAttributes,
} from '../../src/relay/destinations/growlytics';
import { DESTINATIONS } from '../../src/relay/destinations/index';
import type { HttpResult } from '../../src/relay/destinations/types';
import { sendNarrowing, withoutNulls } from '../../src/relay/destinations/util';
import { createHandler } from '../../src/relay/handler';
import { BOUNDS, checkEvent, checkEvents } from '../../src/relay/schema';
import { openSqliteStore } from '../../src/relay/sqlite';
import type { Delivery, StoredEvent } from '../../src/relay/store';
import type { TrackletEvent } from '../../src/types';
import { pageview } from './helpers';

const NOW = 1_750_000_000_000;
const DAY = 86_400_000;

/** `{ a: { a: … } }`, `levels` deep, built without recursion. */
const deep = (levels: number): Record<string, unknown> => {
  let value: Record<string, unknown> = { leaf: 1 };
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
};
const depthOf = (value: unknown): number => {
  let n = 0;
  for (
    let x = value as Record<string, unknown> | undefined;
    x && typeof x == 'object';
    x = x.a as Record<string, unknown>
  )
    n++;
  return n;
};

const stored = (event: TrackletEvent, over: Partial<StoredEvent> = {}): StoredEvent => ({
  site: 'shop',
  event,
  receivedAt: NOW,
  time: NOW,
  skewMs: 0,
  ip: '203.0.113.9',
  userAgent: 'UA',
  bot: false,
  ...over,
});
const delivery = (s: StoredEvent, id: number): Delivery => ({
  id,
  destination: 'shop/x',
  attempts: 0,
  status: 'queued',
  updatedAt: 0,
  stored: s,
});
const ok: HttpResult = { ok: true, status: 200, permanent: false, json: {} };

describe('per-event checks at ingest', () => {
  const at = (over: Record<string, unknown>) => ({ ...pageview({ timestamp: NOW }), ...over });

  it.each([
    ['a known event', at({}), { known: true }],
    [
      'an unknown type with valid common fields',
      at({ type: 'form_submit', formId: 'f1' }),
      { known: false },
    ],
    [
      'a vital of an unknown metric',
      at({
        type: 'vital',
        metricName: 'FID2',
        metricValue: 3,
        rating: 'good',
        metricId: 'm',
        navigationType: 'navigate',
      }),
      { known: false },
    ],
    [
      'an unknown type without anonymousId',
      { ...at({ type: 'form_submit' }), anonymousId: undefined },
      { field: 'anonymousId' },
    ],
    [
      'a retired metric',
      at({
        type: 'vital',
        metricName: 'FID',
        metricValue: 3,
        rating: 'good',
        metricId: 'm',
        navigationType: 'navigate',
      }),
      { field: 'metricName' },
    ],
    [
      'properties 3,000 levels deep',
      at({ properties: deep(3000) }),
      {
        field: expect.stringMatching(/^properties(\.a){7}/),
        message: expect.stringContaining('deeper than 8'),
      },
    ],
    ['properties within the depth bound', at({ properties: deep(5) }), { known: true }],
    [
      'an object with too many keys',
      at({
        properties: Object.fromEntries(
          Array.from({ length: BOUNDS.maxKeys + 1 }, (_, i) => [`k${i}`, i]),
        ),
      }),
      { field: 'properties', message: expect.stringContaining('keys') },
    ],
    [
      'an array with too many items',
      at({ properties: { list: Array.from({ length: BOUNDS.maxItems + 1 }, () => 0) } }),
      { field: 'properties.list' },
    ],
    [
      'a timestamp far in the future',
      at({ timestamp: NOW + 10 * DAY }),
      { field: 'timestamp', message: expect.stringContaining('ahead') },
    ],
    ['a timestamp 1e20', at({ timestamp: 1e20 }), { field: 'timestamp' }],
    [
      'a timestamp older than the window',
      at({ timestamp: NOW - BOUNDS.maxAgeMs - DAY }),
      { field: 'timestamp', message: expect.stringContaining('older') },
    ],
    [
      'a timestamp slightly ahead (clamped when stored)',
      at({ timestamp: NOW + 60_000 }),
      { known: true },
    ],
    ['not an object', 'pageview', { field: '(event)' }],
  ])('%s', (_name, candidate, expected) => {
    const result = checkEvent(candidate, NOW, 0);
    if ('known' in expected)
      expect(result).toMatchObject({
        known: expected.known,
        event: { id: (candidate as { id: string }).id },
      });
    else expect((result as { problem: unknown }).problem).toMatchObject(expected);
  });

  it('refuses every event of a body whose sentAt is 1e20, naming sentAt, and keeps the others of other bodies', () => {
    const bad = checkEvents(
      { site: 'shop', sentAt: 1e20, events: [pageview({ timestamp: NOW })] },
      NOW,
    );
    expect(bad).toMatchObject({ accepted: [], rejected: [{ index: 0, field: 'sentAt' }] });
    // A clock years behind is corrected, not refused.
    const behind = checkEvents(
      { site: 'shop', sentAt: 2_000, events: [pageview({ timestamp: 1_000 })] },
      NOW,
    );
    expect(behind.accepted).toHaveLength(1);
  });

  it('takes unknown types beside known ones, and alone', () => {
    const known = pageview({ timestamp: NOW });
    const form = { ...pageview({ timestamp: NOW }), type: 'form_submit' };
    const beside = checkEvents({ site: 'shop', sentAt: NOW, events: [known, form] }, NOW);
    expect(beside.accepted.map((e) => e.id)).toEqual([known.id, form.id]);
    expect([...beside.unknown].map((e) => e.id)).toEqual([form.id]);
    const alone = checkEvents({ site: 'shop', sentAt: NOW, events: [form] }, NOW);
    expect(alone.accepted.map((e) => e.id)).toEqual([form.id]);
    expect(alone.rejected).toEqual([]);
  });
});

describe('odd events through the handler', () => {
  const config = resolveConfig(
    {
      sites: {
        shop: {
          origins: ['*'],
          destinations: [
            { type: 'webhook', url: 'http://127.0.0.1:9/x' },
            { type: 'growlytics', apiKeyEnv: 'GL' },
          ],
        },
      },
    },
    { GL: 'k' },
  );
  const good = () => pageview();
  it.each([
    ['null', null],
    ['a number', 5],
    ['an array', []],
    ['an empty object', {}],
    ['type __proto__', { ...pageview(), type: '__proto__' }],
    ['type constructor', { ...pageview(), type: 'constructor' }],
    ['type with spaces', { ...pageview(), type: 'a b' }],
    [
      'metricName toString',
      {
        ...pageview(),
        type: 'vital',
        metricName: 'toString',
        metricValue: 1,
        rating: 'good',
        metricId: 'm',
        navigationType: 'n',
      },
    ],
    [
      'a NUL in a key',
      JSON.parse('{"type":"event","name":"n","properties":{"a\\u0000b":{"c":1}}}'),
    ],
    [
      'a key named __proto__ in properties',
      JSON.parse(
        `{"type":"event","id":"x1","timestamp":${Date.now()},"anonymousId":"a","sessionId":"s",` +
          `"url":"u","path":"/","name":"n","properties":{"__proto__":{"polluted":1}}}`,
      ),
    ],
  ])(
    '%s beside a good event: the good one is stored, the answer is 200 with at most this one refused',
    async (_name, odd) => {
      const store = openSqliteStore();
      try {
        const handler = createHandler({ config, store });
        const ok = good();
        const response = await handler(
          new Request('http://relay/collect', {
            method: 'POST',
            body: JSON.stringify({ v: 1, site: 'shop', sentAt: Date.now(), events: [ok, odd] }),
          }),
        );
        expect(response.status).toBe(200);
        const answer = await response.json();
        expect(answer.accepted + (answer.rejected?.length ?? 0)).toBe(2);
        expect((await store.events()).map((e) => e.event.id)).toContain(ok.id);
        expect(await store.countRejected()).toBe(answer.rejected?.length ?? 0);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      } finally {
        await store.close();
      }
    },
  );
});

describe('withoutNulls', () => {
  it('copies 100,000 levels of nesting without overflowing the stack, dropping nulls', () => {
    const input = deep(100_000);
    (input as Record<string, unknown>).gone = null;
    const copy = withoutNulls(input) as Record<string, unknown>;
    expect(depthOf(copy)).toBe(100_001);
    expect(copy).not.toHaveProperty('gone');
  });

  it.each([
    [
      { a: null, b: [1, null, { c: null, d: 2 }], e: 'x' },
      { b: [1, { d: 2 }], e: 'x' },
    ],
    [[null, 1], [1]],
    ['text', 'text'],
  ])('%j → %j', (input, output) => {
    expect(withoutNulls(input)).toEqual(output);
  });

  it('keeps a key named __proto__ as a plain key', () => {
    const copy = withoutNulls(JSON.parse('{"__proto__":{"x":1},"y":2}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.keys(copy)).toEqual(['__proto__', 'y']);
    expect(JSON.stringify(copy)).toBe('{"__proto__":{"x":1},"y":2}');
  });
});

describe('a mapping that throws fails its event alone', () => {
  // A time of 1e20 (as stored by a relay before ingest bounds) has no ISO form: those mappings throw on it.
  it.each(['tracardi', 'datacue', 'tracify'])(
    '%s: the other events of the lease are sent',
    async (type) => {
      const good = [1, 2, 3].map((n) =>
        delivery(
          stored(pageview({ path: '/', url: 'https://shop.example/', anonymousId: `v${n}` })),
          n,
        ),
      );
      const bad = delivery(
        stored(pageview({ path: '/', url: 'https://shop.example/' }), { time: 1e20 }),
        9,
      );
      const sent: unknown[] = [];
      const config = {
        type,
        name: type,
        key: `shop/${type}`,
        site: 'shop',
        baseUrl: 'http://127.0.0.1:1/e',
        customerSiteId: 'c',
        sourceId: 's',
        timeoutMs: 1000,
        attempts: 3,
        backoffBaseMs: 1,
        backoffMaxMs: 1,
        secrets: { apiKey: 'k' },
      };
      const outcomes = await DESTINATIONS[type].deliver([good[0], bad, good[1], good[2]], {
        config: config as never,
        post: async (_url, _headers, body) => (sent.push(body), ok),
        getState: async () => undefined,
        setState: async () => {},
        count: () => {},
      });
      const failed = outcomes.filter((o) => !o.ok);
      expect(failed).toEqual([
        {
          deliveries: [bad],
          ok: false,
          permanent: true,
          error: expect.stringMatching(/^cannot map event .*Invalid time value/),
        },
      ]);
      expect(
        outcomes
          .filter((o) => o.ok)
          .flatMap((o) => o.deliveries.map((d) => d.id))
          .sort(),
      ).toEqual([1, 2, 3]);
      expect(sent.length).toBeGreaterThan(0);
    },
  );

  it('the worker dead-letters it with its reason and delivers the rest of the lease', async () => {
    const received: string[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req
        .on('data', (d) => (body += d))
        .on('end', () => {
          received.push(...JSON.parse(body).events.map((e: { id: string }) => e.id));
          res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"profile":{"id":"p1"}}');
        });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const store = openSqliteStore();
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const config = resolveConfig({
        delivery: { pollMs: 60_000 },
        sites: {
          shop: {
            origins: ['*'],
            destinations: [{ type: 'tracardi', baseUrl: base, sourceId: 's' }],
          },
        },
      });
      const events = [1, 2, 3].map(() => stored(pageview()));
      const poisoned = stored(pageview(), { time: 1e20 });
      await store.insertEvents([events[0], poisoned, events[1], events[2]], () => [
        'shop/tracardi',
      ]);
      const worker = startWorker(store, config);
      await worker.runOnce();
      await worker.stop();
      expect(received.sort()).toEqual(events.map((e) => e.event.id).sort());
      const dead = await store.deadLetters();
      expect(dead.map((d) => [d.stored.event.id, d.attempts])).toEqual([[poisoned.event.id, 1]]);
      expect(dead[0].lastError).toMatch(/cannot map event .*Invalid time value/);
      expect((await store.status())[0]).toMatchObject({ delivered: 3, dead: 1, queued: 0 });
    } finally {
      await store.close();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('a refused batch is narrowed down', () => {
  const items = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      delivery: delivery(stored(pageview()), i + 1),
      value: i + 1,
    }));

  it.each([
    [16, [7], 400],
    [16, [1, 16], 422],
    [5, [3], 413],
    [1, [1], 400],
  ])(
    '%i events, %j refused with %i: only those fail, in a bounded number of requests',
    async (n, refused, status) => {
      let requests = 0;
      const outcomes = await sendNarrowing(items(n), async (part) => {
        requests++;
        return part.some((p) => refused.includes(p.value))
          ? { ok: false, status, permanent: true, error: `HTTP ${status}` }
          : ok;
      });
      expect(outcomes.filter((o) => !o.ok).flatMap((o) => o.deliveries.map((d) => d.id))).toEqual(
        refused,
      );
      expect(
        outcomes.filter((o) => o.ok).flatMap((o) => o.deliveries.map((d) => d.id)),
      ).toHaveLength(n - refused.length);
      expect(requests).toBeLessThanOrEqual(1 + 2 * refused.length * Math.ceil(Math.log2(n) + 1));
    },
  );

  it.each([401, 403, 404, 500])(
    'does not split on %i (it concerns every event alike)',
    async (status) => {
      let requests = 0;
      const outcomes = await sendNarrowing(
        items(8),
        async () => (
          requests++,
          { ok: false, status, permanent: status < 500, error: `HTTP ${status}` }
        ),
      );
      expect(requests).toBe(1);
      expect(outcomes).toHaveLength(1);
      expect(outcomes[0].deliveries).toHaveLength(8);
    },
  );
});

describe('Retry-After', () => {
  it.each([
    ['2', 2000],
    [' 120 ', 120_000],
    [new Date(NOW + 30_000).toUTCString(), 30_000],
    [new Date(NOW - 30_000).toUTCString(), 0],
    ['999999999', MAX_RETRY_AFTER_MS],
    ['soon', undefined],
    ['-1', undefined],
    ['1.5', undefined],
    [null, undefined],
  ])('%j → %j ms', (value, ms) => {
    expect(parseRetryAfter(value, NOW)).toBe(ms);
  });
});

describe('a Retry-After in the worker', () => {
  it(
    'holds the rest of the lease for that destination ' +
      'without counting attempts; another destination goes on',
    async () => {
      const hits: Record<string, number> = { '/g/track/event': 0, '/w': 0 };
      const server = createServer((req, res) => {
        req.resume().on('end', () => {
          hits[req.url!]++;
          if (req.url!.startsWith('/g'))
            return void res.writeHead(429, { 'Retry-After': '60' }).end();
          res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const store = openSqliteStore();
      try {
        const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        const config = resolveConfig(
          {
            delivery: { pollMs: 60_000, backoffBaseMs: 10, backoffMaxMs: 10 },
            sites: {
              shop: {
                origins: ['*'],
                destinations: [
                  { type: 'growlytics', baseUrl: base + '/g', apiKeyEnv: 'GL' },
                  { type: 'webhook', url: base + '/w' },
                ],
              },
            },
          },
          { GL: 'gl-key' },
        );
        await store.insertEvents(
          [1, 2, 3].map(() => stored(pageview())),
          () => ['shop/growlytics', 'shop/webhook'],
        );
        const worker = startWorker(store, config);
        const started = Date.now();
        await worker.runOnce();
        await worker.runOnce();
        await worker.stop();
        expect(hits['/g/track/event']).toBe(1);
        expect(hits['/w']).toBe(1);
        const counts = Object.fromEntries((await store.status()).map((c) => [c.destination, c]));
        expect(counts['shop/webhook']).toMatchObject({ delivered: 3 });
        expect(counts['shop/growlytics']).toMatchObject({ delivered: 0, queued: 3, dead: 0 });
        // The refused one waits the full minute; the two held back were never sent and kept their attempts.
        expect(
          (await store.lease('shop/growlytics', 10, started + 59_000, started + 59_500)).map(
            (d) => d.attempts,
          ),
        ).toEqual([0, 0]);
        expect(
          (await store.lease('shop/growlytics', 10, started + 61_000, started + 62_000))
            .map((d) => d.attempts)
            .sort(),
        ).toEqual([0, 0, 1]);
      } finally {
        await store.close();
        await new Promise((r) => server.close(r));
      }
    },
  );
});

describe('errors without secrets', () => {
  const servers: { close(): void }[] = [];
  afterEach(() => servers.splice(0).forEach((s) => s.close()));

  it.each([
    [
      'a URL path and query',
      'POST https://hooks.example/T000/B000/XyZsecret?token=abc failed',
      'POST https://hooks.example failed',
      ['XyZsecret', 'abc'],
    ],
    [
      'user info in a URL',
      'http://user:pa55word@db.example:5432/x',
      'http://db.example:5432',
      ['pa55word', 'user'],
    ],
    [
      'a URL followed by punctuation',
      'see https://h.example/a/s3cr3t: failed (https://h.example/b?k=s3cr3t).',
      'see https://h.example: failed (https://h.example).',
      ['s3cr3t'],
    ],
    [
      'a URL that is a known secret',
      'https://hooks.example/T0/s3cr3t-url: fetch failed',
      'https://hooks.example: fetch failed',
      ['s3cr3t'],
    ],
    [
      'a Bearer token',
      'sent Authorization: Bearer abc.def-123',
      'sent Authorization: Bearer ***',
      ['abc.def-123'],
    ],
    ['a key parameter', 'bad api_key=k3y-value&x=1', 'bad api_key=***&x=1', ['k3y-value']],
    [
      'a known secret, and its Basic form',
      `echo gl-secret-key ${Buffer.from('gl-secret-key:').toString('base64')}`,
      'echo *** ***',
      ['gl-secret-key'],
    ],
  ])('redacts %s', (_name, text, expected, hidden) => {
    const out = redact(text, ['gl-secret-key', 'https://hooks.example/T0/s3cr3t-url']);
    expect(out).toBe(expected);
    for (const h of hidden) expect(out).not.toContain(h);
  });

  it('a network error names the scheme and host only', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    await new Promise((r) => server.close(r));
    const result = await postJson(
      `http://127.0.0.1:${port}/hooks/s3cr3t-path?token=t0ken`,
      {},
      {},
      2000,
      new AbortController().signal,
    );
    expect(result).toMatchObject({ ok: false, permanent: false });
    expect(result.error).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}: `));
    expect(result.error).not.toMatch(/s3cr3t|t0ken/);
  });

  it('a header value with CR/LF never puts the secret into the error, and nothing is sent', async () => {
    let hits = 0;
    const server = createServer((_req, res) => (hits++, res.end()));
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
    const result = await postJson(
      url,
      { 'x-growlytics-key': 'sup3r-secret\r\nX-Injected: 1' },
      {},
      2000,
      new AbortController().signal,
    );
    expect(result.ok).toBe(false);
    expect(result.error).toContain('x-growlytics-key');
    expect(result.error).not.toContain('sup3r');
    expect(hits).toBe(0);
  });

  it('a secret with a line break is refused at start, naming the variable and not the value', () => {
    const input = {
      sites: { shop: { origins: ['*'], destinations: [{ type: 'growlytics', apiKeyEnv: 'GL' }] } },
    };
    expect(() => resolveConfig(input, { GL: 'sup3r-secret\r\nX: 1' })).toThrow(
      /apiKeyEnv contains a line break/,
    );
    try {
      resolveConfig(input, { GL: 'sup3r-secret\r\nX: 1' });
    } catch (error) {
      expect((error as Error).message).not.toContain('sup3r');
    }
  });
});

describe('errors stored by an older relay', () => {
  it('are shown redacted by /status and /dead-letters', async () => {
    const config = resolveConfig(
      {
        sites: {
          shop: { origins: ['*'], destinations: [{ type: 'webhook', urlEnv: 'HOOK_URL' }] },
        },
      },
      { HOOK_URL: 'https://hooks.example/T0/s3cr3t' },
    );
    const store = openSqliteStore();
    try {
      await store.insertEvents([stored(pageview())], () => ['shop/webhook']);
      const [leased] = await store.lease('shop/webhook', 1, NOW, NOW + 1000);
      await store.deadLetter([leased.id], 'https://hooks.example/T0/s3cr3t: fetch failed', NOW);
      const handler = createHandler({ config, store });
      const status = await (await handler(new Request('http://relay/status'))).text();
      const letters = await (await handler(new Request('http://relay/dead-letters'))).text();
      for (const text of [status, letters]) {
        expect(text).toContain('https://hooks.example: fetch failed');
        expect(text).not.toContain('s3cr3t');
      }
    } finally {
      await store.close();
    }
  });
});

describe('webhook urlEnv', () => {
  const config = (hook: Record<string, unknown>) => ({
    sites: { shop: { origins: ['*'], destinations: [{ type: 'webhook', ...hook }] } },
  });

  it('reads the URL from the environment', () => {
    const resolved = resolveConfig(config({ urlEnv: 'HOOK_URL' }), {
      HOOK_URL: 'https://hooks.example/T0/s3cr3t',
    });
    expect(resolved.sites.shop.destinations[0].secrets.url).toBe('https://hooks.example/T0/s3cr3t');
  });

  it.each([
    [
      { urlEnv: 'HOOK_URL' },
      { HOOK_URL: 'not a url s3cr3t' },
      /urlEnv: environment variable HOOK_URL does not hold an http\(s\) URL/,
    ],
    [{ urlEnv: 'HOOK_URL' }, {}, /urlEnv: environment variable HOOK_URL is not set/],
    [
      { urlEnv: 'HOOK_URL', url: 'https://a.example/' },
      { HOOK_URL: 'https://b.example/' },
      /url: give either url or urlEnv/,
    ],
    [{}, {}, /url: give either url or urlEnv/],
  ])('refuses %j at start, never printing the value', (hook, env, message) => {
    let error: unknown;
    try {
      resolveConfig(config(hook), env);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('s3cr3t');
  });
});

describe('Growlytics attribute types', () => {
  it('takes constructor, toString and __proto__ as attribute names', () => {
    const raw = JSON.parse('{"constructor":5,"toString":"x","__proto__":7,"hasOwnProperty":true}');
    const types = Object.create(null);
    const { attributes } = repairAttributes(raw, types);
    expect(JSON.parse(JSON.stringify(attributes))).toEqual(
      JSON.parse('{"constructor":5,"toString":"x","__proto__":7,"hasOwnProperty":true}'),
    );
    expect(Object.getPrototypeOf(attributes)).toBe(Object.prototype);
    expect({ ...types }).toEqual(
      JSON.parse(
        '{"constructor":"number","toString":"string","__proto__":"number","hasOwnProperty":"boolean"}',
      ),
    );
    // Remembered: a later string constructor stays a number where it can.
    expect(JSON.stringify(repairAttributes({ constructor: '6' }, types).attributes)).toBe(
      '{"constructor":6}',
    );
  });

  const fake = (extra: Record<string, unknown> = {}) => {
    const sent: any[] = [];
    const state = new Map<string, unknown>();
    return {
      sent,
      state,
      context: {
        config: {
          type: 'growlytics',
          name: 'g',
          key: 'shop/g',
          site: 'shop',
          timeoutMs: 1000,
          attempts: 3,
          backoffBaseMs: 1,
          backoffMaxMs: 1,
          secrets: { apiKey: 'k' },
          ...extra,
        } as never,
        post: async (_url: string, _headers: Record<string, string>, body: unknown) => (
          sent.push(JSON.parse(JSON.stringify(body))),
          ok
        ),
        getState: async (visitor: string) => state.get(visitor),
        setState: async (visitor: string, value: unknown) =>
          void state.set(visitor, JSON.parse(JSON.stringify(value))),
        count: () => {},
      },
    };
  };
  const custom = (properties: Record<string, unknown>) =>
    delivery(
      stored(pageview({ type: 'event', name: 'e', properties } as Partial<TrackletEvent>)),
      1,
    );

  it('sends __proto__ and constructor attributes through a real delivery, typed across calls', async () => {
    const { sent, context } = fake();
    await growlytics.deliver([custom(JSON.parse('{"__proto__":1,"constructor":"a"}'))], context);
    await growlytics.deliver([custom(JSON.parse('{"__proto__":"2","constructor":"b"}'))], context);
    expect(sent.map((b) => [b.attributes.__proto__, b.attributes.constructor])).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);
  });

  it('a first sender no longer decides commerce numbers, and declared types win', async () => {
    const { sent, context } = fake({ attributeTypes: { size: 'string', vip: 'boolean' } });
    await growlytics.deliver([custom({ value: 'x', size: 42, vip: 'true' })], context);
    await growlytics.deliver([custom({ value: 12, size: 'XL', vip: false })], context);
    expect(sent.map((b) => b.attributes)).toMatchObject([
      { size: '42', vip: true },
      { value: 12, size: 'XL', vip: false },
    ]);
    expect(sent[0].attributes).not.toHaveProperty('value');
  });

  it('caps a remembered map stored by an older relay, and lets the config override a built-in type', async () => {
    const { sent, state, context } = fake({ attributeTypes: { price: 'string' } });
    state.set(
      '*attribute-types*',
      Object.fromEntries(
        Array.from({ length: MAX_REMEMBERED + 500 }, (_, i) => [`old${i}`, 'string']),
      ),
    );
    await growlytics.deliver([custom({ price: 12, fresh: 1 })], context);
    expect(sent[0].attributes).toMatchObject({ price: '12', fresh: 1 });
    expect(Object.keys(state.get('*attribute-types*') as object)).toHaveLength(MAX_REMEMBERED);
  });

  it('remembers at most MAX_REMEMBERED names, so the map cannot grow without bound', async () => {
    const { sent, state, context } = fake();
    for (let call = 0; call < 30; call++)
      await growlytics.deliver(
        [custom(Object.fromEntries(Array.from({ length: 45 }, (_, i) => [`n${call}_${i}`, i])))],
        context,
      );
    const remembered = [...state.values()][0] as Record<string, string>;
    expect(Object.keys(remembered)).toHaveLength(MAX_REMEMBERED);
    // Past the bound, each value keeps its own type.
    expect(sent[29].attributes.n29_44).toBe(44);
  });
});
