/**
 * A relay stopped (SIGTERM, a deploy) while a lease is half sent: the events the destination has
 * already taken are recorded as delivered, not handed back and sent again after the restart.
 * Growlytics sends one request per event and cannot dedupe (its body carries no event id), so a
 * resend would count twice there. Against the real relay in-process, restarted on the same store.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startRelay } from '../../src/relay/index';
import { batch, pageview, post, tempDir, until } from './helpers';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe('a relay stopped while a lease is half sent', () => {
  it('records what the destination took and sends only the rest after a restart', async () => {
    // The paths of the events Growlytics answered 200 for; after `answers`, requests hang.
    const taken: string[] = [];
    let answers = 3;
    let arrived = 0;
    const server = createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk) => (raw += chunk));
      req.on('end', () => {
        arrived++;
        if (answers-- <= 0) return;
        taken.push(JSON.parse(raw).attributes.path);
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.push(
      () =>
        new Promise<void>(
          (resolve) => (server.closeAllConnections(), server.close(() => resolve())),
        ),
    );
    const config = {
      delivery: { pollMs: 20, timeoutMs: 30_000, backoffBaseMs: 10, backoffMaxMs: 20 },
      sites: {
        shop: {
          origins: ['*'],
          destinations: [
            {
              type: 'growlytics',
              baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
              apiKeyEnv: 'KEY',
            },
          ],
        },
      },
    };
    const storePath = join(tempDir(), 'relay.db');
    let relay = await startRelay({ config, storePath, env: { KEY: 'key' } });
    const events = Array.from({ length: 6 }, (_, i) =>
      pageview({ path: `/p${i}`, url: `https://shop.example/p${i}` }),
    );
    expect((await post(relay.url, batch(events))).status).toBe(200);
    // Three taken, the fourth in flight (hanging) when the relay stops.
    await until(() => arrived == 4, { times: 200, everyMs: 25 });
    await relay.close();
    expect(taken).toEqual(['/p0', '/p1', '/p2']);

    answers = Infinity;
    relay = await startRelay({ config, storePath, env: { KEY: 'key' } });
    cleanup.push(() => relay.close());
    await until(async () => (await relay.store.status())[0]?.delivered == 6, {
      times: 200,
      everyMs: 25,
    });
    // Each event taken once: the three taken before the stop were not sent again.
    expect(taken.sort()).toEqual(events.map((e) => e.path).sort());
  });
});
