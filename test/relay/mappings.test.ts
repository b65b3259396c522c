/** Destination mappings and enrichment rules, table-driven. */
import { describe, expect, it } from 'vitest';
import { backoff } from '../../src/relay/delivery';
import { boundProperties, toDatabuddy } from '../../src/relay/destinations/databuddy';
import { datacueEvent, toDatacue } from '../../src/relay/destinations/datacue';
import { repairAttributes } from '../../src/relay/destinations/growlytics';
import { toTracardiPayload, tracardiType } from '../../src/relay/destinations/tracardi';
import { toTracify, tracifyDatetime, tracifyType } from '../../src/relay/destinations/tracify';
import { botMemoSize, clientIp, enrich, isBot, isTrusted } from '../../src/relay/enrich';
import type { StoredEvent } from '../../src/relay/store';
import { COMMERCE_EVENTS } from '../../src/commerce';
import type { TrackletEvent } from '../../src/types';
import { pageview } from './helpers';

const custom = (name: string, properties: Record<string, unknown> = {}) =>
  pageview({ type: 'event', name, properties } as Partial<TrackletEvent>);
const stored = (event: TrackletEvent, over: Partial<StoredEvent> = {}): StoredEvent => ({
  site: 'shop',
  event,
  receivedAt: 1_700_000_000_000,
  time: 1_700_000_000_000,
  skewMs: 0,
  ip: '203.0.113.9',
  userAgent: 'UA',
  bot: false,
  ...over,
});

describe('commerce events map to each destination type', () => {
  it.each([
    [COMMERCE_EVENTS.productView, 'productview', 'product-view', 'pageview/product'],
    [COMMERCE_EVENTS.addToCart, 'addtocart', 'product-in-basket', 'viewcart'],
    [COMMERCE_EVENTS.checkoutStart, undefined, 'checkout-start', 'order/started'],
    [COMMERCE_EVENTS.purchase, 'purchase', 'purchase', 'order/completed'],
    [COMMERCE_EVENTS.conversion, 'conversion', 'conversion', undefined],
    [COMMERCE_EVENTS.search, undefined, 'search', 'search'],
    [COMMERCE_EVENTS.login, undefined, 'login', 'login'],
    ['newsletter_signup', undefined, 'newsletter-signup', undefined],
  ])('%s → Tracify %s, Tracardi %s, DataCue %s', (name, tracify, tracardi, datacue) => {
    const event = custom(name, { product_id: 'p1', query: 'q' });
    expect(tracifyType(event)).toBe(tracify);
    expect(tracardiType(event)).toBe(tracardi);
    const dc = datacueEvent(stored(event));
    expect(dc && [dc.type, dc.subtype].filter(Boolean).join('/')).toBe(datacue);
  });
});

describe('Databuddy', () => {
  it('bounds properties to its validation rules', () => {
    const many = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`k${i}`, i]));
    expect(Object.keys(boundProperties(many))).toHaveLength(50);
    expect(
      boundProperties({ a: null, b: { c: null, d: 1 }, ['x'.repeat(129)]: 1, e: [1, null] }),
    ).toEqual({ b: { d: 1 }, e: [1] });
    expect(
      JSON.stringify(boundProperties({ a: 'x'.repeat(20_000), b: 'y'.repeat(20_000) })).length,
    ).toBeLessThanOrEqual(32_768);
  });

  it('never sends a timestamp later than the event arrived', () => {
    expect(toDatabuddy(stored(pageview(), { time: 1_700_000_999_999 }))!.timestamp).toBe(
      1_700_000_000_000,
    );
  });
});

describe('Tracify', () => {
  it('formats datetime as UTC %Y-%m-%d %H:%M:%S', () => {
    expect(tracifyDatetime(Date.UTC(2024, 5, 21, 12, 36, 37, 999))).toBe('2024-06-21 12:36:37');
  });

  it.each([
    ['a purchase without currency', { order_id: 'o', value: 5 }, 'needs an ISO-4217 currency'],
    ['a purchase without value', { order_id: 'o', currency: 'EUR' }, 'needs a value'],
  ])('refuses %s (Tracify requires it)', (_name, properties, message) => {
    expect(() =>
      toTracify(stored(custom('purchase', properties)), { customerSiteId: 'c' }),
    ).toThrow(message);
  });

  it('uses the event id as order id when none was given', () => {
    const event = custom('purchase', { value: 5, currency: 'eur' });
    expect(toTracify(stored(event), { customerSiteId: 'c' }).data).toMatchObject({
      order_id: event.id,
      currency: 'EUR',
      amount: '5.00',
    });
  });
});

describe('Tracardi', () => {
  it('leaves out unknown fields instead of sending null', () => {
    const payload = toTracardiPayload('src', [
      stored(pageview(), { userAgent: undefined, ip: undefined }),
    ]);
    expect(JSON.stringify(payload)).not.toContain('null');
    expect(payload).not.toHaveProperty('profile');
    expect(toTracardiPayload('src', [stored(pageview())], 'p-1').profile).toEqual({ id: 'p-1' });
  });
});

describe('Growlytics attribute repair', () => {
  it.each([
    ['keeps allowed types', { s: 'a', n: 1, b: true }, {}, { s: 'a', n: 1, b: true }, 0],
    ['drops nulls and non-finite numbers', { a: null, n: Number.NaN, ok: 1 }, {}, { ok: 1 }, 2],
    [
      'turns objects and arrays into JSON strings',
      { o: { a: 1 }, l: [1, 2] },
      {},
      { o: '{"a":1}', l: '[1,2]' },
      2,
    ],
    [
      'keeps a number attribute a number',
      { price: '12.5' },
      { price: 'number' },
      { price: 12.5 },
      1,
    ],
    ['drops a value that cannot keep its type', { price: 'cheap' }, { price: 'number' }, {}, 1],
    ['keeps a string attribute a string', { id: 42 }, { id: 'string' }, { id: '42' }, 1],
    ['keeps a boolean attribute a boolean', { vip: 'true' }, { vip: 'boolean' }, { vip: true }, 1],
  ] as const)('%s', (_name, raw, types, attributes, repairs) => {
    expect(repairAttributes(raw, { ...types })).toEqual({ attributes, repairs });
  });

  it('keeps at most 50 attributes and remembers new types', () => {
    const types = {};
    const result = repairAttributes(
      Object.fromEntries(Array.from({ length: 55 }, (_, i) => [`a${i}`, i])),
      types,
    );
    expect(Object.keys(result.attributes)).toHaveLength(50);
    expect(result.repairs).toBe(5);
    expect(types).toMatchObject({ a0: 'number' });
  });
});

describe('DataCue', () => {
  it('uses the user agent field the configuration names', () => {
    expect(toDatacue(stored(pageview()), 'user-agent')!.context).toEqual({
      ip: '203.0.113.9',
      'user-agent': 'UA',
    });
  });

  it('skips pageviews other than home or a category', () => {
    expect(datacueEvent(stored(pageview({ path: '/about' })))).toBeUndefined();
    expect(
      datacueEvent(
        stored(
          pageview({ path: '/c', properties: { category_id: 'shoes' } } as Partial<TrackletEvent>),
        ),
      ),
    ).toEqual({ type: 'pageview', subtype: 'category', category_id: 'shoes' });
  });
});

describe('enrichment', () => {
  it('corrects clock skew from sentAt and never dates an event after it arrived', () => {
    const [a, b] = enrich(
      {
        v: 1,
        site: 's',
        sentAt: 5_000,
        events: [pageview({ timestamp: 4_000 }), pageview({ timestamp: 9_000 })],
      },
      { receivedAt: 65_000 },
    );
    expect([a.skewMs, a.time, b.time]).toEqual([60_000, 64_000, 65_000]);
  });

  it.each([
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36',
      false,
    ],
    ['Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', true],
    ['Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/126.0 Safari/537.36', true],
    ['curl/8.5.0', true],
    [undefined, true],
  ])('flags %s as bot: %s', (ua, bot) => expect(isBot(ua)).toBe(bot));

  it.each([
    [
      'a Cubot phone',
      'Mozilla/5.0 (Linux; Android 10; Cubot P40) AppleWebKit/537.36 ' +
        '(KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36',
      false,
    ],
    [
      'an iPhone',
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 ' +
        '(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
      false,
    ],
    [
      'GoogleOther',
      'Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 ' +
        '(KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36 (compatible; GoogleOther)',
      true,
    ],
    ['GoogleOther alone', 'GoogleOther', true],
    [
      'Datadog synthetics',
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, ' +
        'like Gecko) Chrome/120.0.0.0 Safari/537.36 DatadogSynthetics',
      true,
    ],
    ['UptimeRobot', 'Mozilla/5.0 (compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)', true],
  ])(
    'judges %s by the maintained list (bot: %s), the same again from the memo',
    (_name, ua, bot) => {
      expect(isBot(ua)).toBe(bot);
      expect(isBot(ua)).toBe(bot);
    },
  );

  it('remembers at most 2000 user agents, and a verdict after eviction is still right', () => {
    for (let i = 0; i < 2_500; i++)
      isBot(`Mozilla/5.0 (X11; Linux x86_64) Chrome/${i}.0 Safari/537.36`);
    expect(botMemoSize()).toBe(2_000);
    expect(isBot('Mozilla/5.0 (X11; Linux x86_64) Chrome/0.0 Safari/537.36')).toBe(false);
    expect(isBot('Mozilla/5.0 (compatible; Googlebot/2.1) Chrome/0.0 Safari/537.36')).toBe(true);
    expect(botMemoSize()).toBe(2_000);
    // Overlong user agents are judged each time and never stored.
    expect(isBot('Mozilla/5.0 ' + 'x'.repeat(600) + ' DatadogSynthetics')).toBe(true);
    expect(botMemoSize()).toBe(2_000);
  });

  it.each([
    [
      'the socket peer when it is not trusted',
      '198.51.100.7',
      { 'x-forwarded-for': '1.2.3.4' },
      [],
      '198.51.100.7',
    ],
    [
      'X-Forwarded-For from a trusted proxy',
      '10.0.0.2',
      { 'x-forwarded-for': '1.2.3.4, 10.0.0.3' },
      ['10.0.0.0/8'],
      '1.2.3.4',
    ],
    [
      'the right-most untrusted hop, not a forged left one',
      '127.0.0.1',
      { 'x-forwarded-for': '6.6.6.6, 1.2.3.4' },
      ['loopback'],
      '1.2.3.4',
    ],
    [
      'X-Real-IP when there is no X-Forwarded-For',
      '::ffff:127.0.0.1',
      { 'x-real-ip': '1.2.3.4' },
      ['127.0.0.1'],
      '1.2.3.4',
    ],
  ])('takes %s', (_name, remote, headers, trusted, ip) => {
    expect(clientIp(new Headers(headers), remote, trusted)).toBe(ip);
  });

  it('matches CIDR ranges', () => {
    expect(isTrusted('192.168.1.20', ['192.168.1.0/24'])).toBe(true);
    expect(isTrusted('192.168.2.20', ['192.168.1.0/24'])).toBe(false);
  });
});

describe('backoff', () => {
  it.each([
    [1, 0, 500],
    [1, 1, 1000],
    [3, 1, 4000],
    [20, 1, 60_000],
    [20, 0, 30_000],
  ])('attempt %i with random %f waits %i ms', (attempt, random, ms) => {
    expect(backoff(attempt, 1000, 60_000, () => random)).toBe(ms);
  });
});

describe('destination modules with a fake transport', () => {
  const context = (config: Record<string, unknown>) => {
    const sent: { url: string; headers: Record<string, string>; body: any }[] = [];
    const state = new Map<string, unknown>();
    return {
      sent,
      state,
      context: {
        config: {
          name: 'x',
          key: 'shop/x',
          site: 'shop',
          timeoutMs: 1000,
          attempts: 3,
          backoffBaseMs: 1,
          backoffMaxMs: 1,
          secrets: { apiKey: 'k' },
          ...config,
        } as never,
        post: async (url: string, headers: Record<string, string>, body: unknown) => (
          sent.push({ url, headers, body }),
          { ok: true, permanent: false, json: {} }
        ),
        getState: async (visitor: string) => state.get(visitor),
        setState: async (visitor: string, value: unknown) =>
          void state.set(visitor, structuredClone(value)),
        count: () => {},
      },
    };
  };
  const delivery = (event: TrackletEvent, id = 1) => ({
    id,
    destination: 'shop/x',
    attempts: 0,
    status: 'queued' as const,
    updatedAt: 0,
    stored: stored(event),
  });

  it.each([
    [{}, 'authorization', 'Bearer k'],
    [{ apiKeyHeader: 'X-API-Key' }, 'X-API-Key', 'k'],
    [{ apiKeyHeader: 'Authorization', apiKeyPrefix: 'Token ' }, 'Authorization', 'Token k'],
  ])('sends the Tracify key as configured: %o', async (options, header, value) => {
    const { DESTINATIONS } = await import('../../src/relay/destinations/index');
    const fake = context({
      type: 'tracify',
      baseUrl: 'http://127.0.0.1:1/e',
      customerSiteId: 'c',
      ...options,
    });
    await DESTINATIONS.tracify.deliver([delivery(pageview())], fake.context);
    const headers = Object.fromEntries(
      Object.entries(fake.sent[0].headers).map(([k, v]) => [k.toLowerCase(), v]),
    );
    expect(headers[header.toLowerCase()]).toBe(value);
  });

  it('remembers Growlytics attribute types across calls', async () => {
    const { DESTINATIONS } = await import('../../src/relay/destinations/index');
    const fake = context({ type: 'growlytics' });
    await DESTINATIONS.growlytics.deliver([delivery(custom('a', { size: 42 }))], fake.context);
    await DESTINATIONS.growlytics.deliver([delivery(custom('b', { size: 'XL' }))], fake.context);
    expect(fake.sent.map((r) => r.body.attributes.size)).toEqual([42, undefined]);
    expect(fake.sent[1].url).toBe('https://dc.growlytics.in/track/event');
  });
});
