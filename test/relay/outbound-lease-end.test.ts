/**
 * A relay never sends under an expired lease. Growlytics sends one request per event, so a slow
 * destination can need longer than the lease for one batch; another relay on the same store then
 * leases the unsent rest and sends it too. Against the real relay in-process (SQLite), with the
 * test acting as that other relay: it leases whatever it can, and no event may reach both.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SETTLE_MARGIN_MS, withinLease } from '../../src/relay/delivery';
import { startRelay } from '../../src/relay/index';
import { batch, pageview, post, until } from './helpers';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe('a batch slower than its lease', () => {
  it('is sent only while the lease lasts; the rest goes back, and no event is sent twice', async () => {
    // Growlytics answers each request after 150 ms: 20 events take 3 s, the lease lasts 2 s.
    const sent: string[] = [];
    const server = createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk) => (raw += chunk));
      req.on('end', () => {
        sent.push(JSON.parse(raw).attributes.path);
        setTimeout(() => res.writeHead(200).end('{}'), 150);
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
        delivery: { pollMs: 20, leaseMs: 2000, timeoutMs: 500, backoffBaseMs: 10 },
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
      },
      env: { KEY: 'key' },
    });
    cleanup.push(() => relay.close());
    const events = Array.from({ length: 20 }, (_, i) =>
      pageview({ path: `/p${i}`, url: `https://shop.example/p${i}` }),
    );
    expect((await post(relay.url, batch(events))).status).toBe(200);

    // The other relay: every 20 ms it leases what is due and not leased, and records it sent.
    const other: string[] = [];
    await until(
      async () => {
        const now = Date.now();
        const leased = await relay.store.lease('shop/growlytics', 50, now, now + 60_000);
        other.push(...leased.map((x) => x.stored.event.path));
        if (leased.length)
          await relay.store.markDelivered(
            leased.map((x) => x.id),
            now,
          );
        const [counts] = await relay.store.status();
        return counts.queued == 0 && sent.length + other.length >= 20;
      },
      { times: 400, everyMs: 20 },
    );
    // Requests still in flight past the lease would arrive now.
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(sent.filter((path) => other.includes(path))).toEqual([]);
    expect([...sent, ...other].sort()).toEqual(events.map((e) => e.path).sort());
    // Handed back unsent, not failed: no attempt counted, nothing dead.
    const [counts] = await relay.store.status();
    expect(counts).toMatchObject({ delivered: 20, retrying: 0, dead: 0 });
  });
});

describe('withinLease', () => {
  const answer = { ok: true, status: 200, permanent: false };
  it('holds a request that could outlast the lease, but never the first', async () => {
    let now = 0;
    let requests = 0;
    const post = withinLease(
      async () => (requests++, answer),
      10_000,
      5_000,
      () => now,
    );
    now = 9_000;
    expect(await post('u', {}, {})).toEqual(answer);
    expect(await post('u', {}, {})).toMatchObject({ ok: false, held: true });
    expect(requests).toBe(1);
  });

  it('sends while the timeout and the margin fit before the lease ends', async () => {
    let now = 0;
    const post = withinLease(
      async () => answer,
      10_000,
      5_000,
      () => now,
    );
    await post('u', {}, {});
    now = 10_000 - 5_000 - SETTLE_MARGIN_MS;
    expect((await post('u', {}, {})).ok).toBe(true);
    now += 1;
    expect((await post('u', {}, {})).held).toBe(true);
  });
});
