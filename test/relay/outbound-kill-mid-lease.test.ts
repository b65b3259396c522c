/**
 * The relay CLI killed (SIGKILL) while a lease is half sent, then restarted on the same store:
 * every accepted event is delivered, and Growlytics, which sends one request per event and cannot
 * dedupe (no event id in its body), gets again only the request that was in flight, not the
 * lease's events it had already taken. The webhook's batch, in flight at the kill, arrives once.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { datacue } from '../../src/relay/destinations/datacue';
import type { Outcome } from '../../src/relay/destinations/types';
import type { Delivery } from '../../src/relay/store';
import type { TrackletEvent } from '../../src/types';
import {
  batch,
  ensureBuilt,
  pageview,
  post,
  startCli,
  status,
  tempDir,
  until,
  writeConfig,
} from './helpers';

// A child process and real sockets on a shared, sometimes busy machine: generous bounds.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 180_000 });

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});
beforeAll(ensureBuilt, 180_000);

describe('the relay killed while a lease is half sent', () => {
  it('delivers every event after a restart; Growlytics gets again only the one in flight', async () => {
    // What each destination answered 200 for: Growlytics event paths, webhook event ids.
    const taken: { growlytics: string[]; webhook: string[] } = { growlytics: [], webhook: [] };
    let growlyticsAnswers = 5;
    let growlyticsArrived = 0;
    let hookAnswers = false;
    const server = createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk) => (raw += chunk));
      req.on('end', () => {
        const body = JSON.parse(raw);
        if (req.url!.startsWith('/g')) {
          growlyticsArrived++;
          // After five answers it hangs: the sixth request is in flight at the kill.
          if (growlyticsAnswers-- <= 0) return;
          taken.growlytics.push(body.attributes.path);
        } else {
          if (!hookAnswers) return;
          taken.webhook.push(...body.events.map((e: TrackletEvent) => e.id));
        }
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
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const dir = tempDir();
    const config = writeConfig(dir, {
      delivery: {
        pollMs: 50,
        leaseMs: 1000,
        timeoutMs: 30_000,
        backoffBaseMs: 20,
        backoffMaxMs: 100,
      },
      sites: {
        shop: {
          origins: ['*'],
          destinations: [
            { type: 'growlytics', baseUrl: base + '/g', apiKeyEnv: 'GROWLYTICS_KEY' },
            { type: 'webhook', url: base + '/hook' },
          ],
        },
      },
    });
    const storage = join(dir, 'relay.db');
    const env = { GROWLYTICS_KEY: 'key' };
    let relay = await startCli(config, storage, env);
    cleanup.push(() => (relay.child.exitCode == null ? relay.stop() : Promise.resolve()));
    const events = Array.from({ length: 20 }, (_, i) =>
      pageview({ path: `/p${i}`, url: `https://shop.example/p${i}` }),
    );
    expect((await post(relay.url, batch(events))).status).toBe(200);
    await until(() => growlyticsArrived == 6, { times: 200, everyMs: 25 });
    await relay.kill();
    expect(taken.growlytics).toHaveLength(5);

    growlyticsAnswers = Infinity;
    hookAnswers = true;
    relay = await startCli(config, storage, env);
    await until(async () => (await status(relay.url)).destinations.every((d) => d.delivered == 20));
    // Growlytics: each event taken exactly once (the one in flight was never answered).
    expect(taken.growlytics.sort()).toEqual(events.map((e) => e.path).sort());
    // The webhook: every id once (its batch was in flight, unanswered, at the kill).
    expect(taken.webhook.sort()).toEqual(events.map((e) => e.id).sort());
  });
});

describe('DataCue, one request per event too', () => {
  it('settles each event as soon as it is answered, before the next request', async () => {
    const steps: string[] = [];
    const deliveries = [1, 2, 3].map((id): Delivery => ({
      id,
      destination: 'shop/datacue',
      attempts: 0,
      status: 'queued',
      updatedAt: 0,
      stored: {
        site: 'shop',
        event: pageview({ path: '/', url: 'https://shop.example/' }),
        receivedAt: 0,
        time: 0,
        skewMs: 0,
        bot: false,
      },
    }));
    const returned = await datacue.deliver(deliveries, {
      config: { type: 'datacue', key: 'shop/datacue', secrets: { apiKey: 'k' } } as never,
      post: async () => (steps.push('post'), { ok: true, status: 204, permanent: false }),
      settle: async (o: Outcome) => void steps.push(`settle ${o.deliveries[0].id}`),
      getState: async () => undefined,
      setState: async () => {},
      count: () => {},
    });
    expect(steps).toEqual(['post', 'settle 1', 'post', 'settle 2', 'post', 'settle 3']);
    expect(returned).toEqual([]);
  });
});
