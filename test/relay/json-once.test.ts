import { describe, expect, it } from 'vitest';
import { jsonOnce, storedJson } from '../../src/relay/json-once';
import type { StoredEvent } from '../../src/relay/store';

const event = (id: string, extra: Record<string, unknown> = {}) =>
  ({
    type: 'event',
    id,
    name: 'signup "quoted" \u2028 \u0000 é',
    timestamp: 1_700_000_000_000,
    anonymousId: 'a-1',
    sessionId: 's-1',
    properties: { plan: 'pro', n: 1.5, list: [1, null, 'x'], nested: { deep: true } },
    ...extra,
  }) as unknown as StoredEvent['event'];

describe('storedJson', () => {
  it('is the JSON.stringify of the stored event without sendIp, key for key', () => {
    const cases: StoredEvent[] = [
      { site: 's', event: event('e1'), receivedAt: 1, time: 2, skewMs: -3, bot: false },
      {
        site: 'ü"\\',
        event: event('e2'),
        receivedAt: 1,
        time: 2,
        skewMs: 0,
        ip: '10.0.0.0',
        bot: true,
      },
      {
        site: 's',
        event: event('e3', { gone: undefined }),
        receivedAt: 1,
        time: 2,
        skewMs: 5,
        bot: false,
        ip: '10.0.0.0',
        sendIp: '10.0.0.7',
      },
      {
        site: 's',
        event: event('e4'),
        receivedAt: 1,
        time: 2,
        skewMs: 0,
        ip: undefined,
        bot: false,
      },
    ];
    for (const stored of cases) {
      const { sendIp: _sendIp, ...kept } = stored;
      expect(storedJson(stored)).toBe(JSON.stringify(kept));
      expect(JSON.parse(storedJson(stored))).toEqual(JSON.parse(JSON.stringify(kept)));
    }
  });

  it("serialises the event once: the webhook's jsonOnce of the same event reuses it", () => {
    let reads = 0;
    const counted = event('e5');
    Object.defineProperty(counted, 'counted', {
      enumerable: true,
      get: () => ++reads,
    });
    const stored: StoredEvent = {
      site: 's',
      event: counted,
      receivedAt: 1,
      time: 1,
      skewMs: 0,
      bot: false,
    };
    const row = storedJson(stored);
    expect(reads).toBe(1);
    expect(jsonOnce(counted)).toBe(
      '{' + row.split('"event":{')[1].split('},"receivedAt"')[0] + '}',
    );
    expect(reads).toBe(1);
    storedJson(stored);
    expect(reads).toBe(1);
  });
});
