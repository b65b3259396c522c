/** The bare web-standard handler, without a server: admin token, replayed stream, requeue by id, 404. */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/relay/config';
import { createHandler } from '../../src/relay/handler';
import { openSqliteStore } from '../../src/relay/sqlite';
import { batch, pageview } from './helpers';

const setup = () => {
  // The full address, so the tests see which one was taken (the default keeps a truncated one).
  const config = {
    ...resolveConfig({
      storeIp: 'full',
      sites: {
        shop: {
          origins: ['https://shop.example'],
          destinations: [{ type: 'webhook', url: 'http://127.0.0.1:9/x' }],
        },
      },
    }),
    adminToken: 'tok',
  };
  const store = openSqliteStore();
  return { store, handler: createHandler({ config, store, now: () => 1_700_000_000_000 }) };
};
const ingest = (handler: ReturnType<typeof setup>['handler'], body: unknown) =>
  handler(
    new Request('http://relay/collect', {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain' },
      body: JSON.stringify(body),
    }),
    { remoteAddress: '::ffff:198.51.100.4' },
  );

describe('createHandler', () => {
  it.each([
    ['GET', '/status'],
    ['GET', '/dead-letters'],
    ['POST', '/dead-letters/requeue'],
    ['GET', '/events/stream'],
  ])('keeps %s %s behind the admin token', async (method, path) => {
    const { handler } = setup();
    expect((await handler(new Request('http://relay' + path, { method }))).status).toBe(401);
    expect(
      (await handler(new Request('http://relay' + path + '?token=wrong', { method }))).status,
    ).toBe(401);
    const ok = await handler(new Request('http://relay' + path + '?token=tok', { method }));
    expect(ok.status).toBe(200);
    await ok.body?.cancel();
  });

  it('stores the client IP without the IPv4-mapped prefix, and the clock-corrected time', async () => {
    const { handler, store } = setup();
    await ingest(handler, batch([pageview({ timestamp: 1_000 })], 'shop', 2_000));
    expect(await store.events()).toMatchObject([
      {
        ip: '198.51.100.4',
        skewMs: 1_700_000_000_000 - 2_000,
        time: 1_700_000_000_000 - 1_000,
        bot: true,
      },
    ]);
  });

  it('replays stored events to a new stream subscriber', async () => {
    const { handler } = setup();
    const event = pageview();
    await ingest(handler, batch([event]));
    const response = await handler(
      new Request('http://relay/events/stream?replay=10', {
        headers: { Authorization: 'Bearer tok' },
      }),
    );
    const reader = response.body!.getReader();
    let text = '';
    for (let i = 0; i < 5 && !text.includes(event.id); i++)
      text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    expect(text).toContain(`"id":"${event.id}"`);
  });

  it('requeues chosen dead letters by id', async () => {
    const { handler, store } = setup();
    await ingest(handler, batch([pageview(), pageview()]));
    const leased = await store.lease('shop/webhook', 10, Date.now(), Date.now() + 1000);
    await store.deadLetter(
      leased.map((d) => d.id),
      'HTTP 400',
      Date.now(),
    );
    const response = await handler(
      new Request('http://relay/dead-letters/requeue?token=tok', {
        method: 'POST',
        body: JSON.stringify({ ids: [leased[0].id] }),
      }),
    );
    expect(await response.json()).toEqual({ requeued: 1 });
    expect((await store.status())[0]).toMatchObject({ queued: 1, dead: 1 });
  });

  it('answers unknown paths with a JSON 404', async () => {
    const { handler } = setup();
    const response = await handler(new Request('http://relay/nope'));
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: 'not_found' });
  });
});
