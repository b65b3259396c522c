/**
 * The delivery worker's loop: a pass asked for while one runs follows it at once, runOnce() resolves
 * only when a pass without lingering is done, and stop() ends the loop without waiting for the poll.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/relay/config';
import { startWorker } from '../../src/relay/delivery';
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

const memoryStore = () => ({ store: openSqliteStore() as Store });

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
  const { store } = memoryStore();
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
  return { hook, store, worker, handler };
};

describe('the delivery loop', () => {
  it(
    'runOnce() during a pass resolves once what arrived ' +
      'meanwhile is sent, with no poll due for a minute',
    async () => {
      const { hook, handler, worker } = await setUp();
      hook.hold();
      expect((await post(handler, body(1))).status).toBe(200);
      // The first pass is under way: its request waits at the webhook.
      await until(() => hook.arrived.length == 1);
      expect((await post(handler, body(2))).status).toBe(200);
      const flushed = worker.runOnce();
      hook.release();
      await flushed;
      expect(hook.requests.flat()).toHaveLength(3);
    },
  );

  it('a kick while the loop waits for a poll a minute away runs a pass at once', async () => {
    const { hook, worker, store } = await setUp();
    // Stored without the handler: nothing is handed over and nothing kicks the worker.
    const events = JSON.parse(body(2)).events.map((event: { id: string }) => ({
      site: 'shop',
      event,
      receivedAt: Date.now(),
      time: Date.now(),
      skewMs: 0,
      bot: false,
    }));
    expect((await store.insertEvents(events, () => ['shop/webhook'])).inserted).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 50));
    expect(hook.requests).toHaveLength(0);
    worker.kick();
    worker.kick();
    await until(() => hook.requests.flat().length == 2, 2000);
  });

  it('stop() ends the loop at once while it waits for a poll a minute away; later asks do nothing', async () => {
    const { worker } = await setUp();
    const started = Date.now();
    await worker.stop();
    expect(Date.now() - started).toBeLessThan(1000);
    await worker.runOnce();
    worker.kick();
  });
});
