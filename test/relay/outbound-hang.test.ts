/**
 * A destination that never answers holds up no other, against the real relay in-process with
 * destinations on 127.0.0.1: its requests wait out their timeout while the others deliver as usual.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startRelay } from '../../src/relay/index';
import { batch, pageview, post, until } from './helpers';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe('a destination that never answers', () => {
  it('holds up no other destination: an event reaches the healthy one in well under its timeout', async () => {
    const arrived: Record<string, number> = {};
    // `/hang/…` reads the request and never answers; `/hook` answers at once.
    const server = createServer((req, res) => {
      req.resume().on('end', () => {
        arrived[req.url!] = (arrived[req.url!] ?? 0) + 1;
        if (!req.url!.startsWith('/hang')) res.writeHead(200).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.push(
      () =>
        new Promise<void>(
          (resolve) => (server.closeAllConnections(), server.close(() => resolve())),
        ),
    );
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const timeoutMs = 5000;
    const relay = await startRelay({
      config: {
        delivery: { pollMs: 50, timeoutMs, attempts: 20, backoffBaseMs: 10, backoffMaxMs: 20 },
        sites: {
          shop: {
            origins: ['*'],
            destinations: [
              // One request per event: three events hang for three timeouts in a row.
              { type: 'growlytics', name: 'stuck', baseUrl: base + '/hang', apiKeyEnv: 'KEY' },
              { type: 'webhook', name: 'hook', url: base + '/hook' },
            ],
          },
        },
      },
      env: { KEY: 'key' },
    });
    cleanup.push(() => relay.close());
    const delivered = async () =>
      (await relay.store.status()).find((d) => d.destination == 'shop/hook')?.delivered ?? 0;

    expect((await post(relay.url, batch([pageview(), pageview(), pageview()]))).status).toBe(200);
    await until(async () => (await delivered()) == 3 && arrived['/hang/track/event'], {
      times: 100,
      everyMs: 50,
    });
    // The stuck destination's first request now hangs; a new event must not wait behind it.
    const sent = Date.now();
    expect((await post(relay.url, batch([pageview()]))).status).toBe(200);
    await until(async () => (await delivered()) == 4 || Date.now() - sent > 3 * timeoutMs, {
      times: 1000,
      everyMs: 25,
    });
    const took = Date.now() - sent;
    console.log(`the healthy destination got the event ${took} ms after it arrived`);
    expect(await delivered()).toBe(4);
    expect(took).toBeLessThan(timeoutMs / 2);
    // The stuck one has sent nothing to completion and lost nothing: its events wait, queued.
    const stuck = (await relay.store.status()).find((d) => d.destination == 'shop/stuck')!;
    expect(stuck.queued).toBe(4);
    expect(stuck.dead).toBe(0);
  });
});
