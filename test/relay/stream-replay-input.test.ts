/**
 * `replay=` of the event stream takes at most 1,000 events. A negative or fractional value reached
 * the store as `LIMIT -5` or `LIMIT 0.5`: SQLite reads that as no limit at all, so every stored
 * event was loaded to answer one request (PostgreSQL refused it, and the stream replayed nothing).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startRelay, type Relay } from '../../src/relay/index';
import type { StoredEvent } from '../../src/relay/store';
import { pageview } from './helpers';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

describe('replay= of the event stream', () => {
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
    const now = Date.now();
    const events: StoredEvent[] = Array.from({ length: 1_100 }, () => ({
      site: 'shop',
      event: pageview(),
      receivedAt: now,
      time: now,
      skewMs: 0,
      bot: false,
    }));
    await relay.store.insertEvents(events, () => []);
  });
  afterAll(() => relay?.close());

  /** The events replayed to a new subscriber asking for `replay`. */
  const replayedFor = async (replay: string) => {
    const controller = new AbortController();
    const response = await fetch(`${relay.url}/events/stream?replay=${replay}`, {
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    // The opening comment, then the replay: read until nothing more comes for 300 ms (bounded).
    for (let i = 0; i < 200; i++) {
      const quiet = new Promise<undefined>((done) => setTimeout(done, 300));
      const chunk = await Promise.race([reader.read(), quiet]);
      if (!chunk || chunk.done) break;
      text += decoder.decode(chunk.value, { stream: true });
    }
    controller.abort();
    return text.split('\n').filter((line) => line.startsWith('data: ')).length;
  };

  it('replays nothing for a negative or fractional count, and at most 1,000 events', async () => {
    expect(await replayedFor('-5')).toBe(0);
    expect(await replayedFor('0.5')).toBe(0);
    expect(await replayedFor('2.9')).toBe(2);
    expect(await replayedFor('5000')).toBe(1_000);
  });
});
