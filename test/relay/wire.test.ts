/** Both wire versions into one relay: the store and the destinations see the same canonical events. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startRelay, type Relay } from '../../src/relay/index';
import { canonicalBody, MAX_COMMON_BYTES } from '../../src/relay/wire';
import type { TrackletEvent } from '../../src/types';
import { pageview, post, until } from './helpers';
import { webhookMock, type Mock } from './mocks';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

/** The same visit as an old script (v1) and a new one (v2) send it. */
const visit = (prefix: string, sentAt: number) => {
  const base = {
    anonymousId: 'anon-' + prefix,
    sessionId: 'sess-' + prefix,
    userId: 'user-7',
    url: 'https://shop.example/pricing?plan=pro',
    path: '/pricing',
  };
  const events = [
    pageview({
      ...base,
      id: prefix + '-1',
      timestamp: sentAt - 3_000,
      title: 'Pricing',
      referrer: 'https://search.example/',
    }),
    {
      ...base,
      type: 'event',
      id: prefix + '-2',
      timestamp: sentAt - 2_000,
      name: 'signup',
      properties: { plan: 'pro', seats: 3 },
    },
    {
      ...base,
      type: 'vital',
      id: prefix + '-3',
      timestamp: sentAt - 1_000,
      metricName: 'LCP',
      metricValue: 1234.5,
      rating: 'good',
      metricId: 'v5-1',
      navigationType: 'navigate',
    },
    {
      ...base,
      type: 'event',
      id: prefix + '-4',
      timestamp: sentAt - 500,
      url: 'https://shop.example/checkout',
      path: '/checkout',
      name: 'checkout',
    },
  ] as TrackletEvent[];
  const v1 = { v: 1, site: 'shop', sentAt, events };
  // What the new script sends: the fields shared by every event once, in `common`.
  const common = { anonymousId: base.anonymousId, sessionId: base.sessionId, userId: base.userId };
  const v2 = {
    v: 2,
    site: 'shop',
    sentAt,
    common,
    events: events.map((event) =>
      Object.fromEntries(Object.entries(event).filter(([key]) => !(key in common))),
    ),
  };
  return { v1, v2, events };
};

describe('canonicalBody', () => {
  it('merges common under each event; an event’s own field wins', () => {
    const result = canonicalBody({
      v: 2,
      site: 's',
      sentAt: 5,
      common: { anonymousId: 'a', url: 'https://x/' },
      events: [{ id: '1' }, { id: '2', url: 'https://x/y' }],
    });
    expect(result).toEqual({
      body: {
        v: 1,
        site: 's',
        sentAt: 5,
        events: [
          { anonymousId: 'a', url: 'https://x/', id: '1' },
          { anonymousId: 'a', url: 'https://x/y', id: '2' },
        ],
      },
    });
  });

  it('returns version-1 bodies and non-objects untouched', () => {
    const v1 = { v: 1, site: 's', sentAt: 5, events: [] };
    expect(canonicalBody(v1)).toEqual({ body: v1 });
    expect(canonicalBody([1])).toEqual({ body: [1] });
    expect(canonicalBody(null)).toEqual({ body: null });
  });

  it('names what is wrong: an unknown version, a common that is not an object or too large', () => {
    expect(canonicalBody({ v: 3, events: [] })).toMatchObject({
      problem: { field: 'v', message: expect.stringContaining('versions 1 and 2') },
    });
    expect(canonicalBody({ v: 2, common: [1], events: [] })).toMatchObject({
      problem: { field: 'common' },
    });
    expect(
      canonicalBody({ v: 2, common: { url: 'x'.repeat(MAX_COMMON_BYTES) }, events: [] }),
    ).toMatchObject({ problem: { field: 'common' } });
  });

  it('keeps a __proto__ key of the JSON as data, never as a prototype', () => {
    const result = canonicalBody(
      JSON.parse('{"v":2,"common":{"__proto__":{"polluted":1}},"events":[{"id":"1"}]}'),
    ) as { body: { events: object[] } };
    const [event] = result.body.events;
    expect(Object.getPrototypeOf(event)).toBe(Object.prototype);
    expect(Object.getOwnPropertyNames(event).sort()).toEqual(['__proto__', 'id']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('an old and a new script sending to the same relay', () => {
  let relay: Relay;
  let hook: Mock;

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
      pollMs: 20,
    });
  });

  afterAll(async () => {
    await relay?.close();
    await hook?.close();
  });

  it('stores and forwards identical canonical events whichever version arrived', async () => {
    const sentAt = Date.now();
    const old = visit('old', sentAt);
    const now = visit('new', sentAt);
    // Interleaved, as browsers with the cached and the new script send them.
    for (const body of [old.v1, now.v2]) {
      const response = await post(relay.url, body);
      expect(await response.json()).toEqual({ ok: true, accepted: 4, duplicates: 0 });
    }
    const stored = await relay.store.events(100);
    const byVersion = (prefix: string) =>
      stored
        .filter((s) => s.event.id.startsWith(prefix))
        .sort((a, b) => a.event.timestamp - b.event.timestamp)
        .map((s) => ({
          ...s,
          receivedAt: 0,
          time: s.time - s.receivedAt,
          skewMs: 0,
          event: {
            ...s.event,
            id: s.event.id.slice(prefix.length),
            anonymousId: '',
            sessionId: '',
          },
        }));
    expect(byVersion('old')).toHaveLength(4);
    expect(byVersion('new')).toEqual(byVersion('old'));
    // The stored events are the ones v1 carried, field for field.
    expect(
      stored
        .filter((s) => s.event.id.startsWith('new'))
        .map((s) => s.event)
        .sort((a, b) => a.timestamp - b.timestamp),
    ).toEqual(now.events);

    // The webhook receives canonical events, in the v1 shape, for both.
    const forwarded = () =>
      hook.accepted.flatMap((r) => (r.body as { events: TrackletEvent[] }).events);
    await until(() => forwarded().length >= 8);
    expect(hook.violations).toEqual([]);
    expect(forwarded().filter((e) => e.id.startsWith('new'))).toEqual(
      expect.arrayContaining(now.events),
    );
    expect(forwarded().filter((e) => e.id.startsWith('old'))).toEqual(
      expect.arrayContaining(old.events),
    );
  });

  it('counts an event resent in the other version once', async () => {
    const { v1, v2 } = visit('dup', Date.now());
    expect(await (await post(relay.url, v1)).json()).toEqual({
      ok: true,
      accepted: 4,
      duplicates: 0,
    });
    expect(await (await post(relay.url, v2)).json()).toEqual({
      ok: true,
      accepted: 0,
      duplicates: 4,
    });
  });

  it('answers a v2 body whose merged events are invalid with the field, as for v1', async () => {
    const { v2 } = visit('bad', Date.now());
    const response = await post(relay.url, { ...v2, common: { sessionId: 'sess-x' } });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: 'invalid_body',
      field: 'events.0.anonymousId',
    });
  });
});
