/**
 * With TRACKLET_DELIVERY_THREAD=1, delivery's HTTP exchanges run in a thread of their own
 * (src/relay/sender.ts): answers come back whole, timeouts and aborts hold, and a thread that dies
 * fails only its requests in flight, which the worker retries (nothing lost); the next request
 * starts a new thread.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/relay/config';
import { startWorker } from '../../src/relay/delivery';
import { createHandler } from '../../src/relay/handler';
import { exchange, killDeliveryThread } from '../../src/relay/sender';
import { openSqliteStore } from '../../src/relay/sqlite';
import { pageview } from './helpers';

type Seen = { headers: IncomingMessage['headers']; body: string; closed: boolean };

/** A server that records each request and answers through `answer` (which may hold it). */
const startServer = async (answer: (res: ServerResponse, seen: Seen) => void) => {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const one: Seen = { headers: req.headers, body, closed: false };
      seen.push(one);
      res.on('close', () => (one.closed = !res.writableFinished));
      answer(res, one);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`);
  cleanups.push(() => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))));
  return { url, seen };
};

const until = async (check: () => boolean | Promise<boolean>, ms = 5000) => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

const cleanups: (() => Promise<void>)[] = [];
beforeEach(() => void (process.env.TRACKLET_DELIVERY_THREAD = '1'));
afterEach(async () => {
  delete process.env.TRACKLET_DELIVERY_THREAD;
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const never = new AbortController().signal;

describe('the delivery thread', () => {
  it('sends the body and headers as given and returns status, text and Retry-After', async () => {
    const { url, seen } = await startServer((res) =>
      res.writeHead(429, { 'Retry-After': '7' }).end('{"slow":"down ü"}'),
    );
    const payload = JSON.stringify({ events: [{ id: 'e1', name: 'ü €' }] });
    for (const mode of ['thread', 'in process']) {
      if (mode == 'in process') process.env.TRACKLET_DELIVERY_THREAD = '0';
      const answer = await exchange(url, { 'X-Key': 'k1' }, payload, 5000, never);
      expect(answer).toEqual({ status: 429, text: '{"slow":"down ü"}', retryAfter: '7' });
    }
    expect(seen.map((s) => s.body)).toEqual([payload, payload]);
    expect(seen[0].headers['x-key']).toBe('k1');
    expect(seen[0].headers['content-length']).toBe(String(Buffer.byteLength(payload)));
  });

  it('times the whole exchange out, and an abort cancels the request in the thread', async () => {
    const { url, seen } = await startServer(() => {});
    const started = Date.now();
    await expect(exchange(url, {}, '{}', 200, never)).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    expect(Date.now() - started).toBeLessThan(3000);
    const abort = new AbortController();
    const pending = exchange(url, {}, '{}', 60_000, abort.signal);
    await until(() => seen.length == 2);
    abort.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    // The thread dropped the connection of the aborted request.
    await until(() => seen[1].closed);
  });

  it('a thread that dies fails its requests in flight; the next request starts another', async () => {
    const held: ServerResponse[] = [];
    const { url, seen } = await startServer((res) => held.push(res));
    const pending = exchange(url, {}, '{"n":1}', 60_000, never);
    await until(() => seen.length == 1);
    killDeliveryThread();
    await expect(pending).rejects.toThrow(/delivery thread stopped/);
    const next = exchange(url, {}, '{"n":2}', 60_000, never);
    await until(() => held.length == 2);
    held[1].writeHead(200).end('ok');
    expect(await next).toMatchObject({ status: 200, text: 'ok' });
  });

  it('a delivery in flight when the thread dies is sent again: nothing accepted is lost', async () => {
    const held: ServerResponse[] = [];
    let hold = true;
    const received: string[][] = [];
    const { url } = await startServer((res, seen) => {
      if (hold) return void held.push(res);
      received.push(JSON.parse(seen.body).events.map((e: { id: string }) => e.id));
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    });
    const store = openSqliteStore();
    const config = resolveConfig({
      delivery: { pollMs: 50, backoffBaseMs: 10, backoffMaxMs: 20 },
      sites: { shop: { origins: ['*'], destinations: [{ type: 'webhook', url: url.href }] } },
    });
    const worker = startWorker(store, config);
    cleanups.push(
      async () => store.close(),
      () => worker.stop(),
    );
    const handler = createHandler({ config, store, worker });
    const events = [pageview(), pageview(), pageview()];
    const body = JSON.stringify({ v: 1, site: 'shop', sentAt: Date.now(), events });
    const answer = await handler(
      new Request('http://127.0.0.1/collect', { method: 'POST', body }),
      { remoteAddress: '127.0.0.1' },
    );
    expect(answer.status).toBe(200);
    await until(() => held.length == 1);
    hold = false;
    killDeliveryThread();
    await until(() => received.flat().length == 3);
    expect(received.flat().sort()).toEqual(events.map((e) => e.id).sort());
    await until(async () => {
      const [status] = await store.status();
      return status?.delivered == 3 && status.queued == 0 && status.retrying == 0;
    });
  });
});
