/**
 * Bodies a hostile visitor sends, against the relay CLI: an envelope nested thousands of levels
 * deep where the wire versions read it (`v`, `common`), and ids no store can keep as they are (a NUL,
 * an unpaired surrogate). Each gets a 4xx naming the field, or is refused alone beside the good
 * events of its body; the relay keeps serving.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { canonicalBody } from '../../src/relay/wire';
import type { TrackletEvent } from '../../src/types';
import {
  ensureBuilt,
  pageview,
  post,
  startCli,
  status,
  tempDir,
  until,
  writeConfig,
  type RelayProcess,
} from './helpers';
import { webhookMock, type Mock } from './mocks';

// Child processes and real sockets on a shared, sometimes busy machine: generous bounds (every wait is still bounded).
vi.setConfig({ testTimeout: 60_000, hookTimeout: 180_000 });

/** A JSON array nested `levels` deep: 2 bytes a level, so 5,000 levels fit any body limit. */
const nested = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);

let relay: RelayProcess;
let hook: Mock;
beforeAll(async () => {
  await ensureBuilt();
  hook = await webhookMock();
  const dir = tempDir();
  const config = writeConfig(dir, {
    delivery: { pollMs: 50, backoffBaseMs: 20, backoffMaxMs: 100, timeoutMs: 2000 },
    sites: {
      shop: {
        origins: ['https://shop.example'],
        destinations: [{ type: 'webhook', url: hook.url + '/hook' }],
      },
    },
  });
  relay = await startCli(config, join(dir, 'relay.db'));
}, 180_000);
afterAll(async () => {
  await relay?.stop();
  await hook?.close();
});

/** Event ids the webhook received. */
const hookIds = () =>
  hook.accepted.flatMap((r) => r.body.events.map((e: TrackletEvent) => e.id as string));

describe('an envelope nested thousands of levels deep', () => {
  it('names the field in canonicalBody instead of overflowing the stack', () => {
    const deep = JSON.parse(nested(5_000));
    expect(canonicalBody({ v: deep, events: [] })).toMatchObject({ problem: { field: 'v' } });
    for (const v of [2, 4])
      expect(canonicalBody({ v, common: { a: deep }, events: [{}] })).toMatchObject({
        problem: {
          field: expect.stringMatching(/^common\.a\./),
          message: expect.stringContaining('nested deeper'),
        },
      });
  });

  it('gets a 400 naming `v` or `common`, over HTTP; the relay keeps serving', async () => {
    const sentAt = Date.now();
    const event = JSON.stringify(pageview());
    const bodies: [string, string][] = [
      ['v', `{"v":${nested(5_000)},"site":"shop","sentAt":${sentAt},"events":[${event}]}`],
      [
        'common',
        `{"v":2,"site":"shop","sentAt":${sentAt},"common":{"a":${nested(5_000)}},"events":[${event}]}`,
      ],
      [
        'common',
        `{"v":4,"site":"shop","sentAt":${sentAt},"ids":"","common":{"a":${nested(60_000)}},"events":[{}]}`,
      ],
    ];
    for (const [field, body] of bodies) {
      const response = await post(relay.url, body);
      expect(response.status, body.slice(0, 40)).toBe(400);
      expect(await response.json()).toMatchObject({
        error: 'invalid_body',
        field: expect.stringMatching(new RegExp(`^${field}`)),
        message: expect.any(String),
      });
    }
    expect((await fetch(relay.url + '/health')).status).toBe(200);
    expect((await status(relay.url)).events).toBe(0);
    expect(relay.stderr()).not.toMatch(/Maximum call stack/);
  });
});

describe('ids no store keeps as they are', () => {
  it('refuses an id with a NUL or an unpaired surrogate alone; the good events are stored and sent', async () => {
    const good = [pageview(), pageview()];
    const bad = [
      pageview({ id: 'nul\u0000id' }),
      pageview({ id: 'half\ud800' }),
      pageview({ anonymousId: '\udc00visitor' }),
    ];
    const response = await post(relay.url, {
      v: 1,
      site: 'shop',
      sentAt: Date.now(),
      events: [good[0], ...bad, good[1]],
    });
    expect(response.status).toBe(200);
    const answer = await response.json();
    expect(answer).toMatchObject({ ok: true, accepted: 2, duplicates: 0 });
    expect(answer.rejected).toEqual([
      { index: 1, field: 'id', reason: expect.stringContaining('NUL') },
      { index: 2, field: 'id', reason: expect.stringContaining('unpaired surrogate') },
      { index: 3, field: 'anonymousId', reason: expect.stringContaining('unpaired surrogate') },
    ]);
    await until(() => hookIds().length >= 2);
    expect(hookIds()).toEqual(good.map((e) => e.id));
    expect(hook.violations).toEqual([]);
  });

  it('keeps ids with characters outside the BMP (surrogate pairs) and any other text', async () => {
    const events = [pageview({ id: 'emoji-😀-id' }), pageview({ anonymousId: 'Zoë ✓' })];
    const response = await post(relay.url, { v: 1, site: 'shop', sentAt: Date.now(), events });
    expect(await response.json()).toEqual({ ok: true, accepted: 2, duplicates: 0 });
  });
});
