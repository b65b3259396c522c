/** GET /metrics: Prometheus text whose counters move with traffic, behind the admin token. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startRelay, type Relay } from '../../src/relay/index';
import { batch, pageview, post, startCli, tempDir, until, writeConfig } from './helpers';
import { webhookMock, type Mock } from './mocks';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const TOKEN = 'metrics-token';
let relay: Relay;
let hook: Mock;

/** Parses the text exposition format: every sample line by name and labels; fails on a line it cannot read. */
const parse = (text: string) => {
  const samples = new Map<string, number>();
  const typed = new Set<string>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    const type = /^# TYPE (\w+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) typed.add(type[1]);
    if (line.startsWith('#')) continue;
    // Values as Prometheus reads them (Go's ParseFloat: NaN and Inf in any case).
    const match = /^(\w+)(\{[^}]*\})? (-?[\d.e+-]+|nan|[+-]inf)$/i.exec(line);
    if (!match) throw new Error(`not Prometheus text: ${line}`);
    const family = match[1].replace(/_(bucket|sum|count)$/, '');
    if (!typed.has(match[1]) && !typed.has(family))
      throw new Error(`sample before its # TYPE: ${line}`);
    samples.set(match[1] + (match[2] ?? ''), Number(match[3]));
  }
  return samples;
};
const scrape = async () =>
  parse(
    await (
      await fetch(relay.url + '/metrics', { headers: { Authorization: `Bearer ${TOKEN}` } })
    ).text(),
  );

beforeAll(async () => {
  hook = await webhookMock();
  relay = await startRelay({
    config: {
      sites: {
        shop: {
          origins: ['https://shop.example'],
          destinations: [{ type: 'webhook', url: hook.url + '/hook' }],
        },
      },
    },
    adminToken: TOKEN,
    pollMs: 20,
  });
});
afterAll(async () => {
  await relay?.close();
  await hook?.close();
});

describe('/metrics', () => {
  it('is admin-only and answers Prometheus text', async () => {
    expect((await fetch(relay.url + '/metrics')).status).toBe(401);
    const response = await fetch(relay.url + '/metrics', {
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const samples = parse(await response.text());
    expect(samples.get('tracklet_queue_depth{destination="shop/webhook"}')).toBe(0);
  });

  it('moves with traffic: events by outcome, requests by route, deliveries and their latency, the queue', async () => {
    const before = await scrape();
    const at = (s: Map<string, number>, key: string) => s.get(key) ?? 0;
    const first = pageview();
    await post(relay.url, batch([first, pageview(), pageview()]));
    // One duplicate, one refused (a title that is not a string), one new.
    await post(relay.url, batch([first, { ...pageview(), title: 5 } as never, pageview()]));
    await until(() => hook.accepted.flatMap((r) => r.body.events).length >= 4);
    await until(
      async () =>
        at(
          await scrape(),
          'tracklet_deliveries_total{destination="shop/webhook",outcome="delivered"}',
        ) >= 4,
    );
    const after = await scrape();
    const moved = (key: string) => at(after, key) - at(before, key);
    expect(moved('tracklet_events_total{site="shop",outcome="accepted"}')).toBe(4);
    expect(moved('tracklet_events_total{site="shop",outcome="duplicate"}')).toBe(1);
    expect(moved('tracklet_events_total{site="shop",outcome="rejected"}')).toBe(1);
    expect(moved('tracklet_http_requests_total{route="/collect",status="200"}')).toBe(2);
    expect(moved('tracklet_deliveries_total{destination="shop/webhook",outcome="delivered"}')).toBe(
      4,
    );
    expect(
      moved('tracklet_delivery_duration_seconds_count{destination="shop/webhook"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(at(after, 'tracklet_queue_depth{destination="shop/webhook"}')).toBe(0);
    // An unknown path is counted under one label, so a scan cannot grow the label set.
    await fetch(relay.url + '/wp-login.php');
    expect(
      at(await scrape(), 'tracklet_http_requests_total{route="other",status="404"}'),
    ).toBeGreaterThanOrEqual(1);
  });

  it('shows a queue that backs up while the destination fails, with the age of its oldest due delivery', async () => {
    hook.mode = 'fail';
    try {
      await post(relay.url, batch([pageview(), pageview()]));
      await until(
        async () =>
          (await scrape()).get(
            'tracklet_deliveries_total{destination="shop/webhook",outcome="retry"}',
          )! >= 2,
      );
      const samples = await scrape();
      expect(samples.get('tracklet_queue_depth{destination="shop/webhook"}')).toBe(2);
    } finally {
      hook.mode = 'ok';
    }
    await until(
      async () => (await scrape()).get('tracklet_queue_depth{destination="shop/webhook"}') == 0,
      { times: 300 },
    );
    expect(
      (await scrape()).get('tracklet_queue_oldest_due_seconds{destination="shop/webhook"}'),
    ).toBe(0);
  });
});

describe('the CLI’s logs', () => {
  it(
    'are one JSON object per line with a level; the start-up ' +
      'summary names sites and destinations, never a secret',
    async () => {
      const dir = tempDir();
      const config = writeConfig(dir, {
        adminTokenEnv: 'LOG_TEST_TOKEN',
        retention: { events: 30 },
        sites: {
          shop: {
            origins: ['https://shop.example'],
            destinations: [
              {
                type: 'webhook',
                name: 'crm',
                url: 'http://127.0.0.1:9/hook',
                headersEnv: { 'X-Key': 'LOG_TEST_KEY' },
              },
            ],
          },
        },
      });
      const cli = await startCli(config, dir + '/relay.db', {
        LOG_TEST_TOKEN: 'admin-secret-123',
        LOG_TEST_KEY: 'header-secret-456',
      });
      try {
        // A delivery that fails (nothing listens on port 9) is logged too.
        await post(cli.url, batch([pageview()]));
        await until(() => cli.stderr().includes('shop/crm'), { times: 100 });
      } finally {
        await cli.stop();
      }
      const lines = cli.stderr().trim().split('\n');
      const entries = lines.map(
        (line) =>
          JSON.parse(line) as {
            level: number;
            time: number;
            msg: string;
            name: string;
            sites?: unknown;
            retentionDays?: unknown;
          },
      );
      for (const entry of entries)
        expect(entry).toMatchObject({
          level: expect.any(Number),
          time: expect.any(Number),
          msg: expect.any(String),
          name: 'tracklet-relay',
        });
      const started = entries.find((e) => e.msg == 'tracklet relay started');
      expect(started).toMatchObject({
        level: 30,
        sites: { shop: { origins: ['https://shop.example'], destinations: ['crm (webhook)'] } },
        retentionDays: { events: 30 },
      });
      expect(entries.some((e) => e.level == 40 && e.msg.startsWith('shop/crm'))).toBe(true);
      expect(cli.stderr()).not.toContain('admin-secret-123');
      expect(cli.stderr()).not.toContain('header-secret-456');
    },
  );
});
