/**
 * Deliveries handed from ingest to the worker (docs/relay-throughput.md): queued already leased,
 * sent from memory without the lease query, batched for a moment under load, handed back to the
 * store when the relay stops, and left to the store's queue when the worker holds enough.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/relay/config';
import { HANDED_MAX, LINGER_MS, startWorker } from '../../src/relay/delivery';
import { createHandler } from '../../src/relay/handler';
import { openSqliteStore } from '../../src/relay/sqlite';
import type { Store } from '../../src/relay/store';
import { pageview } from './helpers';

/** A webhook that records the event ids of each request, and can be held from answering. */
const startHook = async () => {
  const requests: string[][] = [];
  const arrived: string[][] = [];
  let held: (() => void)[] | undefined;
  const server: Server = createServer((req, res) => {
    let body = '';
    req
      .on('data', (d) => (body += d))
      .on('end', () => {
        arrived.push(JSON.parse(body).events.map((e: { id: string }) => e.id));
        const answer = () => {
          requests.push(JSON.parse(body).events.map((e: { id: string }) => e.id));
          res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
        };
        if (held) held.push(answer);
        else answer();
      });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    requests,
    arrived,
    hold: () => void (held = []),
    release: () => {
      const waiting = held ?? [];
      held = undefined;
      for (const answer of waiting) answer();
    },
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
};

/** The SQLite store with its lease calls counted. */
const countingStore = () => {
  const store = openSqliteStore();
  const calls = { lease: 0, leased: 0, release: 0 };
  const counted: Store = {
    ...store,
    lease: async (...args) => {
      calls.lease++;
      const leased = await store.lease(...args);
      calls.leased += leased.length;
      return leased;
    },
    release: (...args) => (calls.release++, store.release(...args)),
  };
  return { store: counted, calls };
};

const until = async (check: () => boolean | Promise<boolean>, ms = 5000) => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

const body = (count: number) =>
  JSON.stringify({
    v: 1,
    site: 'shop',
    sentAt: Date.now(),
    events: Array.from({ length: count }, () => pageview()),
  });
const post = (handler: ReturnType<typeof createHandler>, text: string) =>
  handler(
    new Request('http://127.0.0.1/collect', {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain' },
      body: text,
    }),
    { remoteAddress: '127.0.0.1' },
  );

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const setUp = async (delivery: Record<string, unknown> = {}) => {
  const hook = await startHook();
  const { store, calls } = countingStore();
  const config = resolveConfig({
    delivery: { pollMs: 60_000, ...delivery },
    sites: { shop: { origins: ['*'], destinations: [{ type: 'webhook', url: hook.url }] } },
  });
  const worker = startWorker(store, config);
  const handler = createHandler({ config, store, worker });
  cleanups.push(
    hook.close,
    () => store.close(),
    () => worker.stop(),
  );
  return { hook, store, calls, worker, handler };
};

describe('deliveries handed from ingest to the worker', () => {
  it('are sent from memory without a lease query, several bodies in one request, each event once', async () => {
    const { hook, store, calls, handler } = await setUp();
    const answers = await Promise.all([
      post(handler, body(20)),
      post(handler, body(20)),
      post(handler, body(20)),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    await until(() => hook.requests.flat().length == 60);
    // Lingering LINGER_MS lets the three bodies share a request (the webhook's batch is 100); on a
    // busy machine the third may come later than that.
    expect(hook.requests.length).toBeLessThan(3);
    // The worker may look for older work in the store; it never reads these back from it.
    expect(calls.leased).toBe(0);
    await until(async () => (await store.status())[0]?.delivered == 60);
    expect(new Set(hook.requests.flat()).size).toBe(60);
    expect(await store.status()).toEqual([
      expect.objectContaining({ destination: 'shop/webhook', queued: 0, delivered: 60 }),
    ]);
  });

  it('one body alone leaves within LINGER_MS or so', async () => {
    const { hook, handler } = await setUp();
    const started = Date.now();
    await post(handler, body(1));
    await until(() => hook.requests.length == 1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(LINGER_MS - 2);
    expect(Date.now() - started).toBeLessThan(LINGER_MS + 1000);
  });

  it(
    'to a webhook travel in several batches at once: a full ' +
      'batch does not wait for the answer to the one in flight',
    async () => {
      const { hook, handler } = await setUp();
      hook.hold();
      await post(handler, body(20));
      await until(() => hook.arrived.length == 1);
      // 100 events (the webhook's batch) wait while the first request has no answer yet.
      for (let i = 0; i < 5; i++) await post(handler, body(20));
      await until(() => hook.arrived.length == 2);
      expect(hook.arrived.map((ids) => ids.length)).toEqual([20, 100]);
      expect(hook.requests).toEqual([]);
      hook.release();
      await until(() => hook.requests.flat().length == 120);
    },
  );

  it(
    'are handed back to the store when the worker stops ' +
      'before sending them, due at once for the next worker',
    async () => {
      const { hook, store, worker, handler } = await setUp();
      hook.hold();
      await post(handler, body(5));
      // The first body is in flight (the hook holds its answer); the second waits in memory.
      await until(() => hook.arrived.length == 1);
      await post(handler, body(7));
      await worker.stop();
      const now = Date.now();
      expect((await store.lease('shop/webhook', 100, now, now + 60_000)).length).toBe(12);
    },
  );

  it('of a visitor erased while they wait are not sent', async () => {
    const { hook, handler } = await setUp();
    hook.hold();
    await post(handler, body(1));
    await until(() => hook.arrived.length == 1);
    // Held in memory while the first request is in flight: one visitor's event and another's.
    const erased = { ...pageview(), anonymousId: 'erase-me' };
    const kept = pageview();
    await post(
      handler,
      JSON.stringify({ v: 1, site: 'shop', sentAt: Date.now(), events: [erased, kept] }),
    );
    const answer = await handler(
      new Request('http://127.0.0.1/erase', {
        method: 'POST',
        body: JSON.stringify({ anonymousId: 'erase-me' }),
      }),
    );
    expect(answer.status).toBe(200);
    hook.release();
    await until(() => hook.arrived.flat().includes(kept.id));
    expect(hook.arrived.flat()).not.toContain(erased.id);
  });

  it('are left to the store queue, unleased, while the worker holds HANDED_MAX of them', async () => {
    const { hook, store, worker, handler } = await setUp();
    hook.hold();
    await post(handler, body(1));
    await until(() => hook.arrived.length == 1);
    expect(worker.handOff!()).toBeGreaterThan(Date.now());
    // The destination is slow: its memory queue fills up (beyond what the extra lanes take into flight).
    const [template] = await store.events(1);
    const filler = Array.from({ length: HANDED_MAX + 400 }, (_, i) => ({
      id: 1e9 + i,
      destination: 'shop/webhook',
      attempts: 0,
      status: 'queued' as const,
      updatedAt: 0,
      stored: template,
    }));
    worker.offer!(filler, Date.now() + 60_000);
    expect(worker.handOff!()).toBeUndefined();
    await post(handler, body(3));
    const now = Date.now();
    expect((await store.lease('shop/webhook', 100, now, now + 60_000)).length).toBe(3);
  });
});
