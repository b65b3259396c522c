/** The webhook's body is built from each event's JSON, made once: the same JSON as before, byte for byte. */
import { describe, expect, it } from 'vitest';
import { JsonText, jsonOnce } from '../../src/relay/destinations/util';
import { webhook } from '../../src/relay/destinations/webhook';
import type { Delivery } from '../../src/relay/store';

const event = (id: string) =>
  ({
    type: 'event',
    name: 'buy "now"',
    id,
    anonymousId: 'a1',
    sessionId: 's1',
    timestamp: 1_000,
    url: 'https://shop.example/?q=\u2028',
    path: '/',
    properties: { price: 9.5, tags: ['a', 'b'], nested: { ok: true } },
  }) as Delivery['stored']['event'];

const delivery = (id: number, e: Delivery['stored']['event']): Delivery => ({
  id,
  destination: 'shop/hook',
  attempts: 0,
  status: 'queued',
  updatedAt: 1_000,
  stored: { site: 'shop', event: e, receivedAt: 1_000, time: 1_000, skewMs: 0, bot: false },
});

describe('the webhook body', () => {
  it('is the JSON of { v: 1, site, sentAt, events } with the events as the tracker sent them', async () => {
    const bodies: unknown[] = [];
    const events = [event('e1'), event('e2')];
    await webhook.deliver(
      events.map((e, i) => delivery(i + 1, e)),
      {
        config: { site: 'shop', url: 'http://127.0.0.1:1/h', secrets: {} } as never,
        post: async (_url, _headers, body) => (bodies.push(body), { ok: true, permanent: false }),
        getState: async () => undefined,
        setState: async () => {},
        count: () => {},
      },
    );
    expect(bodies).toHaveLength(1);
    const text = (bodies[0] as JsonText).text;
    const parsed = JSON.parse(text);
    expect(parsed).toEqual({ v: 1, site: 'shop', sentAt: expect.any(Number), events });
    expect(text).toBe(JSON.stringify({ v: 1, site: 'shop', sentAt: parsed.sentAt, events }));
  });

  it('serialises an object once, however many destinations send it', () => {
    const e = event('e3');
    expect(jsonOnce(e)).toBe(JSON.stringify(e));
    expect(jsonOnce(e)).toBe(jsonOnce(e));
    let reads = 0;
    const counted = {
      get value() {
        reads++;
        return 1;
      },
    };
    jsonOnce(counted);
    jsonOnce(counted);
    expect(reads).toBe(1);
  });
});
