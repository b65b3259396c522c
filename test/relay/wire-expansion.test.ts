/**
 * Version 2 and 4 bodies repeat `common` into each event. A hostile body can ask for that to be
 * done 40,000 times (a 122 KB text, 1 KB gzip) before the envelope's limit of 500 events is
 * checked: the event loop stopped for seconds, every other request waiting.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startRelay, type Relay } from '../../src/relay/index';
import { canonicalBody } from '../../src/relay/wire';
import { UA } from './helpers';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

/** `common` of 200 keys (the most an event may have) and `n` empty events. */
const wide = (v: number, n: number) => {
  const common: Record<string, number> = {};
  for (let i = 0; i < 200; i++) common['k' + i] = i;
  return {
    v,
    site: 'shop',
    sentAt: Date.now(),
    ids: '',
    common,
    events: Array.from({ length: n }, () => ({})),
  };
};

describe('a body of more events than the envelope takes', () => {
  let relay: Relay;
  beforeAll(async () => {
    relay = await startRelay({
      config: {
        sites: {
          shop: {
            origins: ['https://shop.example'],
            destinations: [{ type: 'webhook', url: 'http://127.0.0.1:9/hook' }],
          },
        },
      },
    });
  });
  afterAll(() => relay?.close());

  it('is refused for its count before common is repeated into each event', () => {
    for (const v of [2, 4]) {
      const started = performance.now();
      const result = canonicalBody(wide(v, 40_000)) as { body: { events: unknown[] } };
      // Repeating 200 keys into 40,000 events took 2-3 s; leaving them as they came, well under 1 ms.
      expect(performance.now() - started).toBeLessThan(250);
      expect(result.body.events.length).toBe(40_000);
      expect(result.body.events[0]).toEqual({});
    }
  });

  it('gets a 400 naming events at once, over HTTP, while /health keeps answering', async () => {
    const text = JSON.stringify(wide(4, 40_000));
    expect(text.length).toBeLessThan(128 * 1024);
    const started = performance.now();
    const response = await fetch(relay.url + '/collect', {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', Origin: 'https://shop.example', 'User-Agent': UA },
      body: text,
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: 'invalid_body',
      field: 'events',
      message: 'Invalid length: Expected <=500 but received 40000',
    });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect((await fetch(relay.url + '/health')).status).toBe(200);
  });
});
