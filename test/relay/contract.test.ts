/**
 * Contract tests: the relay, started from its CLI, delivers a scripted visit to a local mock of
 * every destination; each mock checks its document's rules and the test checks the mapping.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  batch,
  ensureBuilt,
  post,
  startCli,
  status,
  tempDir,
  until,
  writeConfig,
  type RelayProcess,
} from './helpers';
import {
  databuddyMock,
  datacueMock,
  growlyticsMock,
  tracardiMock,
  tracifyMock,
  webhookMock,
  type Mock,
} from './mocks';
import { allEvents, session1, session2 } from './session';

// Child processes and real sockets on a shared, sometimes busy machine: generous bounds (every wait is still bounded).
vi.setConfig({ testTimeout: 90_000, hookTimeout: 180_000 });

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const TOKEN = 'admin-secret';
let relay: RelayProcess;
const mocks: Record<string, Mock> = {};

// The build (when dist/ is stale) may take a while on a busy machine.
beforeAll(ensureBuilt, 180_000);

beforeAll(async () => {
  mocks.databuddy = await databuddyMock('web-123', 'db-key');
  mocks.tracify = await tracifyMock('00000000-0000-0000-0000-000000000001', 'tf-key');
  mocks.tracardi = await tracardiMock('3ee63fc6-490a-4fd8-bfb3-bf0c8c8d3387');
  mocks.growlytics = await growlyticsMock('gl-key');
  mocks.datacue = await datacueMock('dc-key');
  mocks.webhook = await webhookMock('hook-secret');
  const dir = tempDir();
  const config = writeConfig(dir, {
    adminTokenEnv: 'RELAY_ADMIN',
    delivery: { pollMs: 50, attempts: 5, backoffBaseMs: 20, backoffMaxMs: 200, timeoutMs: 2000 },
    sites: {
      shop: {
        origins: ['https://shop.example'],
        destinations: [
          {
            type: 'databuddy',
            baseUrl: mocks.databuddy.url,
            clientId: 'web-123',
            apiKeyEnv: 'DATABUDDY_KEY',
          },
          {
            type: 'tracify',
            baseUrl: mocks.tracify.url + '/events',
            customerSiteId: '00000000-0000-0000-0000-000000000001',
            apiKeyEnv: 'TRACIFY_KEY',
          },
          { type: 'tracardi', baseUrl: mocks.tracardi.url, sourceIdEnv: 'TRACARDI_SOURCE' },
          { type: 'growlytics', baseUrl: mocks.growlytics.url, apiKeyEnv: 'GROWLYTICS_KEY' },
          { type: 'datacue', baseUrl: mocks.datacue.url, apiKeyEnv: 'DATACUE_KEY' },
          {
            type: 'webhook',
            url: mocks.webhook.url + '/hook',
            headersEnv: { 'X-Webhook-Secret': 'HOOK_SECRET' },
          },
        ],
      },
    },
  });
  relay = await startCli(config, join(dir, 'relay.db'), {
    RELAY_ADMIN: TOKEN,
    DATABUDDY_KEY: 'db-key',
    TRACIFY_KEY: 'tf-key',
    TRACARDI_SOURCE: '3ee63fc6-490a-4fd8-bfb3-bf0c8c8d3387',
    GROWLYTICS_KEY: 'gl-key',
    DATACUE_KEY: 'dc-key',
    HOOK_SECRET: 'hook-secret',
  });
  // Three bodies as the tracker sends them, the middle one resent (same ids) as after a lost beacon.
  for (const events of [session1.slice(0, 7), session1.slice(0, 7), session1.slice(7), session2]) {
    expect((await post(relay.url, batch(events))).status).toBe(200);
  }
  await until(async () => {
    const s = await status(relay.url, TOKEN);
    return (
      s.destinations.every((d) => d.queued == 0) &&
      s.destinations.every((d) => d.delivered > 0) &&
      s
    );
  });
});

afterAll(async () => {
  await relay?.stop();
  await Promise.all(Object.values(mocks).map((m) => m.close()));
});

describe('every destination', () => {
  it('gets requests that break none of its rules', () => {
    for (const [name, mock] of Object.entries(mocks)) expect(mock.violations, name).toEqual([]);
  });

  it('counts each event once despite the resent body, with nothing dead', async () => {
    const s = await status(relay.url, TOKEN);
    expect(s.events).toBe(allEvents.length);
    for (const d of s.destinations) expect(d.dead, d.destination).toBe(0);
  });

  it('keeps the status view behind the admin token', async () => {
    expect((await fetch(relay.url + '/status')).status).toBe(401);
    expect(
      (await fetch(relay.url + '/status', { headers: { Authorization: 'Bearer nope' } })).status,
    ).toBe(401);
  });
});

describe('Databuddy', () => {
  const items = () =>
    mocks.databuddy.accepted.flatMap((r) =>
      r.body.map((item: object) => ({ endpoint: new URL(r.path, 'http://x').pathname, ...item })),
    );

  it('sends pageviews as page_view and custom events by name to /track, with the event id as eventId', () => {
    const track = items().filter((i) => i.endpoint == '/track');
    expect(track.map((i) => i.name)).toEqual([
      'page_view',
      'product_view',
      'add_to_cart',
      'search',
      'login',
      'checkout_start',
      'purchase',
      'conversion',
      'a custom event whose name is far longer than fifty characters',
      'page_exit',
      'page_view',
    ]);
    expect(new Set(items().map((i) => i.eventId)).size).toBe(items().length);
    expect(track[0]).toMatchObject({
      eventId: 'evt-s1-01',
      anonymousId: 'anon-A',
      sessionId: 'sess-A-s1',
      properties: { utm_source: 'fb', page: '/' },
    });
    expect(
      mocks.databuddy.accepted.every((r) =>
        r.path.startsWith('/track')
          ? r.headers.authorization == 'Bearer db-key'
          : r.path.includes('client_id=web-123'),
      ),
    ).toBe(true);
  });

  it('reports engagement as page_exit with seconds, scroll depth and interactions', () => {
    expect(items().find((i) => i.name == 'page_exit').properties).toMatchObject({
      time_on_page: 45,
      scroll_depth: 80,
      interaction_count: 7,
    });
  });

  it('sends vitals to /vitals and errors to /errors, pathname as path', () => {
    expect(
      items()
        .filter((i) => i.endpoint == '/vitals')
        .map((i) => [i.metricName, i.metricValue, i.path]),
    ).toEqual([
      ['LCP', 1234.5, '/'],
      ['CLS', 0.02, '/'],
      ['TTFB', 80, '/'],
    ]);
    expect(items().filter((i) => i.endpoint == '/errors')).toMatchObject([
      {
        message: expect.stringContaining('Cannot read'),
        lineno: 42,
        colno: 15,
        errorType: 'TypeError',
        eventId: 'evt-s1-04',
      },
    ]);
  });

  it('leaves null out of properties', () => {
    expect(items().find((i) => i.name == 'purchase').properties).not.toHaveProperty('coupon');
  });
});

describe('Tracify', () => {
  const events = () => mocks.tracify.accepted.flatMap((r) => r.body.events);

  it('sends only its types, commerce mapped', () => {
    expect(events().map((e: any) => e.type)).toEqual([
      'pageview',
      'productview',
      'addtocart',
      'purchase',
      'conversion',
      'pageview',
    ]);
  });

  it(
    'puts campaign parameters and the referrer on the first ' +
      'event of each session, even one carried by a vital',
    () => {
      const [first, ...rest] = events();
      expect(first.data).toMatchObject({
        Referer: 'https://ref.example/post',
        origin: 'https://shop.example',
        utm_source: 'fb',
        utm_medium: 'paid',
        trc_mcmp_id: '111',
      });
      expect(rest[0].data).not.toHaveProperty('utm_source');
      expect(rest.at(-1).data).toMatchObject({ utm_source: 'news', utm_campaign: 'spring' });
    },
  );

  it('hashes IP|UA, IP and UA, and the email once identified', () => {
    const [first] = events();
    expect(Object.values(first.identity_data).sort()).toEqual([2, 3, 4]);
    const purchase = events().find((e: any) => e.type == 'purchase');
    expect(purchase.identity_data[sha('ann@example.com')]).toBe(1);
    expect(first.identity_data[sha('127.0.0.1')]).toBe(3);
  });

  it('sends purchases with order id, currency, amount and ITEMn/AMTn/QTYn as strings', () => {
    const purchase = events().find((e: any) => e.type == 'purchase');
    expect(purchase.data).toMatchObject({
      order_id: 'o1',
      currency: 'EUR',
      amount: '100.00',
      ITEM1: 'Shoe',
      AMT1: '25',
      QTY1: '2',
      ITEM2: 'Sock',
      AMT2: '50',
      QTY2: '1',
    });
    expect(events().find((e: any) => e.type == 'conversion').data).toMatchObject({
      conversion_id: 'c1',
      currency: 'EUR',
      amount: '10.00',
    });
    expect(purchase.datetime).toBe(
      new Date(purchase.datetime.replace(' ', 'T') + 'Z')
        .toISOString()
        .slice(0, 19)
        .replace('T', ' '),
    );
  });
});

describe('Tracardi', () => {
  it('sends every event with its Tracklet id, typed', () => {
    const events = mocks.tracardi.accepted.flatMap((r) => r.body.events);
    expect(events.map((e: any) => e.id).sort()).toEqual(allEvents.map((e) => e.id).sort());
    expect(events.map((e: any) => e.type)).toEqual([
      'page-view',
      'web-vital',
      'web-vital',
      'javascript-error',
      'product-view',
      'product-in-basket',
      'search',
      'identify',
      'login',
      'checkout-start',
      'purchase',
      'conversion',
      'a-custom-event-whose-name-is-far-longer-than-fifty-characters',
      'page-engagement',
      'web-vital',
      'page-view',
    ]);
    expect(events.find((e: any) => e.type == 'page-engagement').properties).toEqual({
      engagementTime: 45200,
      scrollDepth: 80,
      interactionCount: 7,
      pageviewId: 'evt-s1-01',
    });
  });

  it('adopts the profile id the first response returned, also in the next session', () => {
    const [first, ...later] = mocks.tracardi.accepted;
    expect(first.body.profile).toBeUndefined();
    expect(later.length).toBeGreaterThan(0);
    const ids = new Set(later.map((r) => r.body.profile?.id));
    expect(ids.size).toBe(1);
    expect(later.map((r) => r.body.session.id)).toContain('sess-A-s2');
  });
});

describe('Growlytics', () => {
  const bodies = () => mocks.growlytics.accepted.map((r) => r.body);

  it('sends one event per call, identified by user id once known', () => {
    expect(bodies()).toHaveLength(allEvents.length);
    expect(bodies()[0].customerId).toBe('anon-A');
    expect(bodies().find((b) => b.name == 'Purchase').customerId).toBe('u-42');
  });

  it('repairs instead of rejecting, and counts the repairs', async () => {
    const custom = bodies().find((b) => b.name.startsWith('a custom event'));
    expect(custom.name).toHaveLength(49);
    expect(custom.attributes.nested).toBe('{"a":1}');
    expect(custom.attributes).not.toHaveProperty('price');
    const s = await status(relay.url, TOKEN);
    expect(
      s.destinations.find((d) => d.destination == 'shop/growlytics')!.counters.repairs,
    ).toBeGreaterThan(0);
  });

  it('sends engagement as an event with typed attributes', () => {
    expect(bodies().find((b) => b.name == 'Engagement').attributes).toMatchObject({
      engagement_time_ms: 45200,
      scroll_depth: 80,
      interaction_count: 7,
      pageview_id: 'evt-s1-01',
    });
  });
});

describe('DataCue', () => {
  const events = () => mocks.datacue.accepted.map((r) => r.body);

  it('maps pageviews and commerce to its types and subtypes, skipping what it has no place for', () => {
    expect(events().map((b) => [b.event.type, b.event.subtype].filter(Boolean).join('/'))).toEqual([
      'pageview/home',
      'pageview/product',
      'viewcart',
      'search',
      'login',
      'order/started',
      'order/completed',
      'pageview/home',
    ]);
    expect(events()[1].event).toMatchObject({ product_id: 'p1', variant_id: 'v1' });
    expect(events()[2].event.cart).toEqual(['p1']);
    expect(events()[3].event.term).toBe('blue jeans');
    expect(events()[6].event).toMatchObject({
      order_id: 'o1',
      cart: [
        { product_id: 'p1', variant_id: 'v1', quantity: 2, unit_price: 25, currency: 'EUR' },
        { product_id: 'p2', quantity: 1, unit_price: 50 },
      ],
    });
  });

  it('sends the user, the client IP and user agent, and an ISO timestamp', () => {
    expect(events()[0]).toMatchObject({
      user: { anonymous_id: 'anon-A' },
      context: { ip: '127.0.0.1', user_agent: expect.stringContaining('Chrome') },
    });
    expect(events()[4].user).toEqual({ user_id: 'u-42', anonymous_id: 'anon-A' });
  });
});

describe('webhook', () => {
  it('receives the wire format as is, with its header', () => {
    const events = mocks.webhook.accepted.flatMap((r) => r.body.events);
    expect(events).toEqual(allEvents);
    expect(mocks.webhook.accepted[0].body.site).toBe('shop');
  });
});
