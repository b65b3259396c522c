/** startRelay() in-process, as the demo and the browser tests use it. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startRelay, type Relay } from '../../src/relay/index';
import { batch, ensureBuilt, pageview, post, until } from './helpers';
import { webhookMock, type Mock } from './mocks';

// Child processes and real sockets on a shared, sometimes busy machine: generous bounds (every wait is still bounded).
vi.setConfig({ testTimeout: 90_000, hookTimeout: 180_000 });

const ROOT = join(import.meta.dirname, '..', '..');
let relay: Relay;
let hook: Mock;
let startMs = 0;

// The script served first-party comes from the build.
beforeAll(ensureBuilt, 180_000);

beforeAll(async () => {
  hook = await webhookMock();
  const t = performance.now();
  relay = await startRelay({
    config: {
      // The full address, so the tests see which one was taken (the default keeps a truncated one).
      storeIp: 'full',
      trustedProxies: ['loopback'],
      script: { path: '/t.js', file: join(ROOT, 'dist', 'tracklet.js') },
      sites: {
        shop: {
          origins: ['https://shop.example'],
          destinations: [{ type: 'webhook', url: hook.url + '/hook' }],
        },
        quiet: {
          origins: ['*'],
          dropBots: true,
          destinations: [{ type: 'webhook', url: hook.url + '/quiet' }],
        },
      },
    },
    pollMs: 20,
  });
  startMs = performance.now() - t;
});

afterAll(async () => {
  await relay?.close();
  await hook?.close();
});

describe('startRelay', () => {
  it('starts in well under a second with an in-memory store', () => {
    console.log(`startRelay: ${startMs.toFixed(1)} ms`);
    expect(startMs).toBeLessThan(1000);
    expect(relay.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('answers /health', async () => {
    expect(await (await fetch(relay.url + '/health')).json()).toEqual({ status: 'ok' });
  });

  it('ingests on / as well as /collect, as application/json too', async () => {
    const response = await fetch(relay.url + '/', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: 'https://shop.example' },
      body: JSON.stringify(batch([pageview()])),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://shop.example');
  });

  it('answers CORS preflights for allowed origins only', async () => {
    const preflight = (origin: string) =>
      fetch(relay.url + '/collect', {
        method: 'OPTIONS',
        headers: { Origin: origin, 'Access-Control-Request-Method': 'POST' },
      });
    const ok = await preflight('https://shop.example');
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-headers')).toBe('Content-Type');
    // The "quiet" site allows any origin, so this relay allows every preflight; the POST itself is checked per site.
    expect((await preflight('https://evil.example')).status).toBe(204);
    const refused = await post(relay.url, batch([pageview()]), { Origin: 'https://evil.example' });
    expect(refused.status).toBe(403);
    // The page can read the refusal, so its outbox drops the batch instead of retrying it for days.
    expect(refused.headers.get('access-control-allow-origin')).toBe('https://evil.example');
    expect(refused.headers.get('access-control-expose-headers')).toBe('Retry-After');
  });

  it('streams every stored, enriched event over SSE', async () => {
    const controller = new AbortController();
    const response = await fetch(relay.url + '/events/stream', { signal: controller.signal });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = response.body!.getReader();
    const event = pageview();
    await post(relay.url, batch([event]), { 'X-Forwarded-For': '203.0.113.50' });
    let text = '';
    for (let i = 0; i < 20 && !text.includes(event.id); i++)
      text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    const line = text.split('\n').find((l) => l.startsWith('data: ') && l.includes(event.id))!;
    expect(JSON.parse(line.slice(6))).toMatchObject({
      site: 'shop',
      event: { id: event.id },
      ip: '203.0.113.50',
      bot: false,
      receivedAt: expect.any(Number),
      time: expect.any(Number),
    });
  });

  it('serves the script first-party with its SRI hash and a year of caching on the versioned URL', async () => {
    const sri = readFileSync(join(ROOT, 'dist', 'tracklet.js.sri'), 'utf8').trim();
    expect(relay.script).toEqual({
      src: expect.stringMatching(/^\/t\.js\?v=[0-9a-f]{12}$/),
      integrity: sri,
    });
    const versioned = await fetch(relay.url + relay.script!.src);
    expect(versioned.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(
      Buffer.from(await versioned.arrayBuffer()).equals(
        readFileSync(join(ROOT, 'dist', 'tracklet.js')),
      ),
    ).toBe(true);
    expect((await fetch(relay.url + '/t.js')).headers.get('cache-control')).toBe(
      'public, max-age=86400',
    );
    expect(await (await fetch(relay.url + '/t.js.json')).json()).toEqual(relay.script);
  });

  it('stores bot events but does not forward them where the site says so', async () => {
    const bot = pageview();
    await post(relay.url, batch([bot], 'quiet'), { 'User-Agent': 'Googlebot/2.1' });
    const human = pageview();
    await post(relay.url, batch([human], 'quiet'));
    await until(() => hook.accepted.some((r) => r.path == '/quiet'));
    const ids = hook.accepted
      .filter((r) => r.path == '/quiet')
      .flatMap((r) => r.body.events.map((e: { id: string }) => e.id));
    expect(ids).toEqual([human.id]);
    expect((await relay.store.events()).map((e) => e.event.id)).toContain(bot.id);
  });

  it('ingests a 20-event batch in a few milliseconds (measured)', async () => {
    const rounds = 100;
    const t = performance.now();
    let done = 0;
    while (done < rounds && performance.now() - t < 10_000) {
      const response = await post(relay.url, batch(Array.from({ length: 20 }, () => pageview())));
      expect(response.status).toBe(200);
      done++;
    }
    const perBatch = (performance.now() - t) / done;
    console.log(
      `ingest: ${perBatch.toFixed(2)} ms per 20-event batch over HTTP ` +
        `(${((20 * 1000) / perBatch).toFixed(0)} events/s, sequential)`,
    );
    // A loose bound: the number is for the log; CI machines are shared and noisy.
    expect(perBatch).toBeLessThan(1000);
    await until(
      async () => (await (await fetch(relay.url + '/status')).json()).destinations[0].queued == 0,
    );
  });

  it('stops cleanly on close()', async () => {
    const other = await startRelay({ config: { sites: { s: { origins: ['*'] } } }, pollMs: 10 });
    await other.close();
    await expect(fetch(other.url + '/health')).rejects.toThrow();
  });
});
