/**
 * Databuddy's error answer (`{"status":"error","message":…}`) with a 2xx status is a failure, not
 * a delivery: against the real relay in-process, the events are retried and then dead-lettered
 * with the message, visible in the store's status; none is counted delivered.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { refusedInBody } from '../../src/relay/destinations/databuddy';
import { startRelay } from '../../src/relay/index';
import { batch, pageview, post, until } from './helpers';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe('a Databuddy 2xx with status "error"', () => {
  it('is retried, then dead-lettered with its message; nothing is counted delivered', async () => {
    let requests = 0;
    const server = createServer((req, res) => {
      req.resume().on('end', () => {
        requests++;
        res
          .writeHead(200, { 'Content-Type': 'application/json' })
          .end('{"status":"error","message":"Invalid event schema"}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.push(
      () =>
        new Promise<void>(
          (resolve) => (server.closeAllConnections(), server.close(() => resolve())),
        ),
    );
    const relay = await startRelay({
      config: {
        delivery: { pollMs: 20, attempts: 3, backoffBaseMs: 10, backoffMaxMs: 20 },
        sites: {
          shop: {
            origins: ['*'],
            destinations: [
              {
                type: 'databuddy',
                baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
                clientId: 'web-1',
              },
            ],
          },
        },
      },
    });
    cleanup.push(() => relay.close());
    expect((await post(relay.url, batch([pageview(), pageview()]))).status).toBe(200);
    await until(
      async () => {
        const [databuddy] = await relay.store.status();
        return databuddy && databuddy.queued == 0;
      },
      { times: 200, everyMs: 50 },
    );
    const [counts] = await relay.store.status();
    expect(counts).toMatchObject({ delivered: 0, dead: 2 });
    expect(counts.lastError).toMatch(/status "error": Invalid event schema/);
    expect(requests).toBe(3);
  });

  it('leaves a success, a plain 2xx and a failure as they were', () => {
    const ok = { ok: true, status: 200, permanent: false };
    expect(refusedInBody({ ...ok, json: { status: 'success', count: 1 } }).ok).toBe(true);
    expect(refusedInBody({ ...ok, status: 204 }).ok).toBe(true);
    const failed = { ok: false, status: 500, permanent: false, error: 'HTTP 500' };
    expect(refusedInBody({ ...failed, json: { status: 'error' } })).toEqual({
      ...failed,
      json: { status: 'error' },
    });
  });
});
