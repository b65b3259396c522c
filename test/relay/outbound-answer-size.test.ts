/**
 * A destination's answer is read up to MAX_ANSWER_BYTES, on the main loop and in the delivery
 * thread: a 2xx whose body never ends is a delivery (not a timeout, resent until dead-lettered),
 * and a 50 MB one costs no more than the cap.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startRelay } from '../../src/relay/index';
import { exchange, MAX_ANSWER_BYTES } from '../../src/relay/sender';
import { batch, pageview, post, until } from './helpers';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  delete process.env.TRACKLET_DELIVERY_THREAD;
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** A server answering each request 200 through `body`; counts requests. */
const startServer = async (body: (res: ServerResponse) => void) => {
  const seen = { requests: 0 };
  const server = createServer((req, res) => {
    req.resume().on('end', () => {
      seen.requests++;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      body(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(
    () =>
      new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
};

/** Writes 64 KiB every 5 ms until the connection closes. */
const endless = (res: ServerResponse) => {
  const chunk = Buffer.alloc(65_536, ' ');
  const timer = setInterval(() => res.write(chunk), 5);
  res.on('close', () => clearInterval(timer));
};

describe('an answer larger than the cap', () => {
  for (const thread of [false, true])
    it(`of 50 MB is read up to the cap (${thread ? 'delivery thread' : 'main loop'})`, async () => {
      if (thread) process.env.TRACKLET_DELIVERY_THREAD = '1';
      const chunk = Buffer.alloc(1_048_576, 'x');
      const server = await startServer((res) => {
        for (let i = 0; i < 50; i++) res.write(chunk);
        res.end();
      });
      const signal = new AbortController().signal;
      const answer = await exchange(new URL(server.url + '/hook'), {}, '{}', 10_000, signal);
      expect(answer.status).toBe(200);
      expect(answer.text.length).toBeLessThanOrEqual(MAX_ANSWER_BYTES);
    });

  it('2xx that never ends: the events are delivered by the first request, not resent until dead', async () => {
    const server = await startServer(endless);
    const relay = await startRelay({
      config: {
        delivery: { pollMs: 50, timeoutMs: 2000, attempts: 3, backoffBaseMs: 10, backoffMaxMs: 20 },
        sites: {
          shop: { origins: ['*'], destinations: [{ type: 'webhook', url: server.url + '/hook' }] },
        },
      },
    });
    cleanup.push(() => relay.close());
    expect((await post(relay.url, batch([pageview(), pageview()]))).status).toBe(200);
    const counts = await until(
      async () => {
        const [hook] = await relay.store.status();
        return hook && hook.queued == 0 && hook;
      },
      { times: 200, everyMs: 50 },
    );
    expect(counts).toMatchObject({ delivered: 2, dead: 0 });
    expect(server.seen.requests).toBe(1);
  });
});
