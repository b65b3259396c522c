/** Rate limits at ingest: token buckets per client IP and per site, 429 with Retry-After, bounded memory. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { resolveConfig } from '../../src/relay/config';
import { createHandler } from '../../src/relay/handler';
import { createLimiter } from '../../src/relay/rate-limit';
import { openSqliteStore } from '../../src/relay/sqlite';
import {
  batch,
  ensureBuilt,
  pageview,
  post,
  startCli,
  tempDir,
  writeConfig,
  type RelayProcess,
} from './helpers';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 180_000 });

describe('createLimiter', () => {
  it('spends a burst, then refills at the rate, saying how long to wait', () => {
    let now = 0;
    const limiter = createLimiter({ perSecond: 2, burst: 3 }, 100, () => now);
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([0, 0, 0]);
    expect(limiter.take('a')).toBe(1);
    now = 400;
    expect(limiter.take('a')).toBe(1);
    now = 500;
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('b')).toBe(0);
  });

  it('rounds a long wait up to whole seconds', () => {
    const limiter = createLimiter({ perSecond: 0.1, burst: 1 }, 100, () => 0);
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('a')).toBe(10);
  });

  it('holds at most maxTracked buckets, forgetting refilled ones and then the least recently used', () => {
    let now = 0;
    const limiter = createLimiter({ perSecond: 1, burst: 2 }, 1000, () => now);
    for (let i = 0; i < 50_000; i++) limiter.take(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
    expect(limiter.size()).toBeLessThanOrEqual(1000);
    // A client that keeps sending stays remembered while new addresses flood in.
    limiter.take('victim');
    limiter.take('victim');
    for (let i = 0; i < 5000; i++) {
      limiter.take(`flood-${i}`);
      if (i % 50 == 0) expect(limiter.take('victim'), `after ${i}`).toBeGreaterThan(0);
    }
    expect(limiter.size()).toBeLessThanOrEqual(1000);
    now = 10_000;
    expect(limiter.take('victim')).toBe(0);
  });

  it('does nothing at perSecond 0', () => {
    const limiter = createLimiter({ perSecond: 0, burst: 1 }, 10, () => 0);
    for (let i = 0; i < 100; i++) expect(limiter.take('a')).toBe(0);
    expect(limiter.size()).toBe(0);
  });
});

describe('the handler with a clock', () => {
  it('refills the bucket of an address as time passes', async () => {
    // The relay's clock near the real one: events far from it are refused by the ingest time window.
    let now = Date.now();
    const config = resolveConfig({
      rateLimit: { perIp: { perSecond: 1, burst: 2 } },
      sites: { shop: { origins: ['*'] } },
    });
    const handler = createHandler({ config, store: openSqliteStore(), now: () => now });
    const send = () =>
      handler(
        new Request('http://relay/collect', {
          method: 'POST',
          headers: { 'Content-Type': 'text/plain' },
          body: JSON.stringify(batch([pageview()], 'shop', now)),
        }),
        {
          remoteAddress: '198.51.100.9',
        },
      );
    expect([(await send()).status, (await send()).status]).toEqual([200, 200]);
    const refused = await send();
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    now += 999;
    expect((await send()).status).toBe(429);
    now += 1;
    expect((await send()).status).toBe(200);
    // Loopback is exempt by default: local tools and a proxy on this host not listed in trustedProxies.
    const local = () =>
      handler(
        new Request('http://relay/collect', {
          method: 'POST',
          body: JSON.stringify(batch([pageview()], 'shop', now)),
        }),
        { remoteAddress: '::ffff:127.0.0.1' },
      );
    for (let i = 0; i < 5; i++) expect((await local()).status).toBe(200);
  });
});

describe('the handler without a client address', () => {
  it('still applies the site bucket', async () => {
    const config = resolveConfig({
      rateLimit: { perIp: { perSecond: 1, burst: 1 }, perSite: { perSecond: 1, burst: 2 } },
      sites: { shop: { origins: ['*'] } },
    });
    const frozen = Date.now();
    const handler = createHandler({ config, store: openSqliteStore(), now: () => frozen });
    const send = async () =>
      (
        await handler(
          new Request('http://relay/collect', {
            method: 'POST',
            body: JSON.stringify(batch([pageview()])),
          }),
        )
      ).status;
    expect([await send(), await send(), await send()]).toEqual([200, 200, 429]);
  });
});

describe('the relay CLI under load from one address and one site', () => {
  let relay: RelayProcess;
  beforeAll(ensureBuilt, 180_000);
  beforeAll(async () => {
    const config = writeConfig(tempDir(), {
      trustedProxies: ['loopback'],
      rateLimit: { perIp: { perSecond: 1, burst: 3 }, perSite: { perSecond: 1, burst: 6 } },
      sites: {
        shop: { origins: ['https://shop.example'] },
        blog: { origins: ['https://shop.example'] },
      },
    });
    relay = await startCli(config, ':memory:');
  });
  afterAll(async () => {
    await relay?.stop();
  });

  const from = (ip: string, site = 'shop') =>
    post(relay.url, batch([pageview()], site), { 'X-Forwarded-For': ip });

  it(
    'answers 429 with Retry-After past the limit of one address, ' +
      'other addresses and sites unaffected, then refills',
    async () => {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await from('203.0.113.1')).status);
      expect(statuses).toEqual([200, 200, 200]);
      const refused = await from('203.0.113.1');
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('1');
      // A page on another origin can read it, so its outbox waits instead of giving up.
      expect(refused.headers.get('access-control-allow-origin')).toBe('https://shop.example');
      expect(refused.headers.get('access-control-expose-headers')).toBe('Retry-After');
      expect(await refused.json()).toMatchObject({
        error: 'rate_limited',
        field: '(client)',
        message: expect.stringContaining('retry in 1 s'),
      });
      expect((await from('203.0.113.2')).status).toBe(200);
      expect((await from('203.0.113.3', 'blog')).status).toBe(200);
      // Refill: 1 per second.
      await new Promise((r) => setTimeout(r, 1100));
      expect((await from('203.0.113.1')).status).toBe(200);
    },
  );

  it('limits a site across addresses, other sites unaffected', async () => {
    // The site bucket (6, 1/s) was partly spent above; many addresses together empty it.
    let refused: Response | undefined;
    for (let i = 10; i < 30 && !refused; i++) {
      const response = await from(`198.51.100.${i}`);
      if (response.status == 429) refused = response;
      else expect(response.status).toBe(200);
    }
    expect(refused).toBeDefined();
    expect(await refused!.json()).toMatchObject({ error: 'rate_limited', field: 'site' });
    expect(Number(refused!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await from('198.51.100.99', 'blog')).status).toBe(200);
    const view = (await (await fetch(relay.url + '/status')).json()) as {
      rateLimited: { ip: number; site: number };
    };
    expect(view.rateLimited.ip).toBeGreaterThanOrEqual(1);
    expect(view.rateLimited.site).toBeGreaterThanOrEqual(1);
  });

  it('does not limit loopback clients by default', async () => {
    for (let i = 0; i < 10; i++)
      expect((await post(relay.url, batch([pageview()], 'blog'))).status).toBe(200);
  });
});
