/** Operating the relay: retention while ingest goes on, erasure with suppression (admin route and CLI), readiness. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startRelay, type Relay } from '../../src/relay/index';
import type { StoredEvent } from '../../src/relay/store';
import { batch, CLI, ensureBuilt, pageview, post, tempDir, until, writeConfig } from './helpers';
import { datacueMock, webhookMock } from './mocks';
import { postgresAvailable, startPostgres, type PostgresServer } from './postgres-server';
import { truncateIp } from '../../src/relay/enrich';

vi.setConfig({ testTimeout: 90_000, hookTimeout: 120_000 });

const TOKEN = 'ops-token';
const admin = { Authorization: `Bearer ${TOKEN}` };
const sites = { shop: { origins: ['https://shop.example'], destinations: [] } };

beforeAll(ensureBuilt, 180_000);

describe.each([
  ['SQLite', false],
  ['PostgreSQL', true],
])('retention on %s', (_store, postgres) => {
  let relay: Relay;
  let pg: PostgresServer | undefined;
  beforeAll(async () => {
    if (postgres && !postgresAvailable()) return;
    pg = postgres ? await startPostgres() : undefined;
    // Events and delivered rows older than one day go; a run every 10 minutes (driven by hand here).
    relay = await startRelay({
      config: { sites, retention: { events: 1, rejected: 1 } },
      adminToken: TOKEN,
      storePath: pg?.url ?? ':memory:',
    });
  });
  afterAll(async () => {
    await relay?.close();
    pg?.destroy();
  });

  it(
    'prunes exactly what is older than configured, ' +
      'while ingest goes on, and counts it in /status',
    async (context) => {
      if (!relay) return context.skip();
      const day = 86_400_000;
      const old = (i: number): StoredEvent => ({
        site: 'shop',
        event: pageview({ id: `old-${i}` }),
        receivedAt: Date.now() - day - 60_000 - i,
        time: 0,
        skewMs: 0,
        bot: false,
      });
      const young = (i: number): StoredEvent => ({
        site: 'shop',
        event: pageview({ id: `young-${i}` }),
        receivedAt: Date.now() - day + 600_000,
        time: 0,
        skewMs: 0,
        bot: false,
      });
      // More than one pruning batch (1,000) of old events, and some just inside the window.
      for (let i = 0; i < 2500; i += 500)
        await relay.store.insertEvents(
          Array.from({ length: 500 }, (_, k) => old(i + k)),
          () => [],
        );
      await relay.store.insertEvents(
        Array.from({ length: 50 }, (_, k) => young(k)),
        () => [],
      );
      await relay.store.insertRejected([
        {
          site: 'shop',
          receivedAt: Date.now() - 2 * day,
          index: 0,
          field: 'f',
          reason: 'old',
          raw: '{}',
        },
        { site: 'shop', receivedAt: Date.now(), index: 0, field: 'f', reason: 'new', raw: '{}' },
      ]);
      // Visitors keep sending while the pruner runs.
      let sent = 0;
      const ingest = (async () => {
        for (let i = 0; i < 40; i++) {
          const response = await post(relay.url, batch([pageview({ id: `live-${i}` })]));
          if (response.status == 200) sent++;
        }
      })();
      const removed = await relay.retention.runOnce();
      await ingest;
      expect(removed).toEqual({ events: 2500, rejected: 1 });
      expect(sent).toBe(40);
      const ids = (await relay.store.events(10_000)).map((s) => s.event.id);
      expect(ids.filter((id) => id.startsWith('old-'))).toEqual([]);
      expect(ids.filter((id) => id.startsWith('young-'))).toHaveLength(50);
      expect(ids.filter((id) => id.startsWith('live-'))).toHaveLength(40);
      expect((await relay.store.rejected()).map((r) => r.reason)).toEqual(['new']);
      const status = await (await fetch(relay.url + '/status', { headers: admin })).json();
      expect(status.retention).toEqual({ pruned: { events: 2500, rejected: 1 } });
    },
  );

  it('refuses an age that is not a positive number of days, naming the key', async () => {
    await expect(startRelay({ config: { sites, retention: { events: -1 } } })).rejects.toThrow(
      /retention\.events/,
    );
    await expect(startRelay({ config: { sites, retention: { forever: 1 } } })).rejects.toThrow(
      /retention/,
    );
  });
});

describe('erasure', () => {
  it('the admin route erases a visitor and drops their later events at ingest, counted', async () => {
    const relay = await startRelay({ config: { sites }, adminToken: TOKEN });
    try {
      await post(
        relay.url,
        batch([
          pageview({ anonymousId: 'anon-erase' }),
          pageview({ anonymousId: 'anon-erase', userId: 'user-erase' }),
          pageview({ anonymousId: 'anon-keep' }),
        ]),
      );
      expect(
        (
          await fetch(relay.url + '/erase', {
            method: 'POST',
            body: JSON.stringify({ userId: 'user-erase' }),
          })
        ).status,
      ).toBe(401);
      const bad = await fetch(relay.url + '/erase', {
        method: 'POST',
        headers: admin,
        body: JSON.stringify({ anonymousId: 'a', userId: 'b' }),
      });
      expect(bad.status).toBe(400);
      const answer = await (
        await fetch(relay.url + '/erase', {
          method: 'POST',
          headers: admin,
          body: JSON.stringify({ userId: 'user-erase' }),
        })
      ).json();
      expect(answer).toEqual({
        erased: {
          events: 2,
          deliveries: 0,
          visitorState: 0,
          rejected: 0,
          suppressed: { anonymousIds: ['anon-erase'], userIds: ['user-erase'] },
        },
      });
      expect((await relay.store.events()).map((s) => s.event.anonymousId)).toEqual(['anon-keep']);
      // Later events of the erased visitor: answered (so the browser's outbox lets them go), not stored.
      const later = await (
        await post(
          relay.url,
          batch([
            pageview({ anonymousId: 'anon-erase' }),
            pageview({ anonymousId: 'anon-new', userId: 'user-erase' }),
            pageview({ anonymousId: 'anon-other' }),
          ]),
        )
      ).json();
      expect(later).toEqual({ ok: true, accepted: 1, duplicates: 0, suppressed: 2 });
      expect((await relay.store.events()).map((s) => s.event.anonymousId).sort()).toEqual([
        'anon-keep',
        'anon-other',
      ]);
      expect(
        (await (await fetch(relay.url + '/status', { headers: admin })).json()).suppressedEvents,
      ).toBe(2);
    } finally {
      await relay.close();
    }
  });

  it('tracklet-relay erase works on the store file; the relay started on it drops that visitor', async () => {
    const dir = tempDir();
    const config = writeConfig(dir, { sites });
    const storage = join(dir, 'relay.db');
    let relay = await startRelay({ config: { sites }, storePath: storage });
    await post(
      relay.url,
      batch([pageview({ anonymousId: 'anon-cli' }), pageview({ anonymousId: 'anon-stay' })]),
    );
    await relay.close();
    const out = execFileSync(
      process.execPath,
      [CLI, 'erase', '--config', config, '--store', storage, '--anonymous-id', 'anon-cli'],
      { encoding: 'utf8' },
    );
    expect(out).toMatch(/^erased 1 event\(s\)/);
    expect(out).toMatch(/suppressed: anonymousId anon-cli/);
    expect(out).toMatch(/not erased by the relay/);
    relay = await startRelay({ config: { sites }, storePath: storage });
    try {
      expect(
        await (await post(relay.url, batch([pageview({ anonymousId: 'anon-cli' })]))).json(),
      ).toEqual({ ok: true, accepted: 0, duplicates: 0, suppressed: 1 });
      expect((await relay.store.events()).map((s) => s.event.anonymousId)).toEqual(['anon-stay']);
    } finally {
      await relay.close();
    }
    let code = 0;
    try {
      execFileSync(process.execPath, [CLI, 'erase', '--config', config, '--store', storage], {
        stdio: 'pipe',
      });
    } catch (error) {
      code = (error as { status: number }).status;
    }
    expect(code).toBe(1);
  });
});

describe('storeIp', () => {
  it('truncates IPv4 to /24 and IPv6 to /48', () => {
    expect(truncateIp('203.0.113.57')).toBe('203.0.113.0');
    expect(truncateIp('2001:db8:85a3:8d3:1319:8a2e:370:7348')).toBe('2001:db8:85a3::');
    expect(truncateIp('2001:db8::1')).toBe('2001:db8:0::');
    expect(truncateIp('::1')).toBe('0:0:0::');
    expect(truncateIp('not an ip')).toBe('');
  });

  it.each([
    ['truncated (the default)', undefined, '127.0.0.0'],
    ['none', 'none', undefined],
    ['full', 'full', '127.0.0.1'],
  ])(
    '%s: stores that much; a destination that takes the IP still gets the full one; the queue forgets it once sent',
    async (_name, storeIp, stored) => {
      const datacue = await datacueMock('dc-key');
      const hook = await webhookMock();
      const relay = await startRelay({
        config: {
          ...(storeIp ? { storeIp } : {}),
          sites: {
            shop: {
              origins: ['*'],
              destinations: [
                { type: 'datacue', baseUrl: datacue.url, apiKeyEnv: 'DC' },
                { type: 'webhook', url: hook.url + '/h' },
              ],
            },
          },
        },
        env: { DC: 'dc-key' },
        pollMs: 20,
      });
      try {
        const event = pageview();
        // A subscriber of the live stream sees what is stored, never the address kept for sending.
        const streamed = fetch(relay.url + '/events/stream').then(async (response) => {
          const reader = response.body!.getReader();
          let text = '';
          for (let i = 0; i < 10 && !text.includes(event.id); i++)
            text += new TextDecoder().decode((await reader.read()).value);
          await reader.cancel();
          return JSON.parse(
            text
              .split('\n')
              .find((l) => l.includes(event.id))!
              .slice(6),
          );
        });
        await new Promise((r) => setTimeout(r, 200));
        await post(relay.url, batch([event]));
        const [row] = await relay.store.events();
        expect(row.ip).toBe(stored);
        expect(row).not.toHaveProperty('sendIp');
        const live = await streamed;
        expect(live.ip).toBe(stored);
        expect(live).not.toHaveProperty('sendIp');
        await until(() => datacue.accepted.length == 1 && hook.accepted.length == 1);
        expect(datacue.accepted[0].body.context.ip).toBe('127.0.0.1');
        expect(datacue.violations).toEqual([]);
        // Sent: the queue no longer holds the full address.
        await until(async () => (await relay.store.status()).every((c) => c.delivered == 1));
        const kept = await relay.store.lease(
          'shop/datacue',
          10,
          Date.now() + 1e9,
          Date.now() + 2e9,
        );
        expect(kept).toEqual([]);
      } finally {
        await relay.close();
        await datacue.close();
        await hook.close();
      }
    },
  );

  it('a dead letter keeps only the stored address', async () => {
    const relay = await startRelay({
      config: {
        sites: {
          shop: {
            origins: ['*'],
            destinations: [{ type: 'datacue', baseUrl: 'http://127.0.0.1:9', apiKeyEnv: 'DC' }],
          },
        },
      },
      env: { DC: 'k' },
      pollMs: 60_000,
    });
    try {
      await post(relay.url, batch([pageview()]));
      // The worker may have tried it already (nothing listens on port 9): lease it once it is due again.
      await until(
        async () => (await relay.store.status()).some((c) => c.queued == 1 && c.retrying == 1),
        { times: 100 },
      );
      const [leased] = await relay.store.lease(
        'shop/datacue',
        10,
        Date.now() + 1e9,
        Date.now() + 2e9,
      );
      expect(leased.stored.ip).toBe('127.0.0.1');
      await relay.store.deadLetter([leased.id], 'HTTP 400', Date.now());
      const [letter] = await relay.store.deadLetters();
      expect(letter.stored.ip).toBe('127.0.0.0');
    } finally {
      await relay.close();
    }
  });
});

describe('a newer tracker', () => {
  it('a body of only event types this relay does not know is stored, not refused', async () => {
    const relay = await startRelay({ config: { sites } });
    try {
      const answer = await (
        await post(
          relay.url,
          batch([
            pageview({ type: 'form_submit' } as never),
            pageview({ type: 'scroll_milestone' } as never),
          ]),
        )
      ).json();
      expect(answer).toEqual({ ok: true, accepted: 2, duplicates: 0 });
      expect((await relay.store.events()).map((s) => s.event.type).sort()).toEqual([
        'form_submit',
        'scroll_milestone',
      ]);
    } finally {
      await relay.close();
    }
  });
});

describe('readiness', () => {
  it('/ready answers 200 while the store answers and 503 once it does not; /health stays liveness', async () => {
    const relay = await startRelay({ config: { sites } });
    try {
      expect(await (await fetch(relay.url + '/ready')).json()).toEqual({ status: 'ready' });
      await relay.store.close();
      const down = await fetch(relay.url + '/ready');
      expect(down.status).toBe(503);
      expect(down.headers.get('retry-after')).toBe('5');
      expect((await fetch(relay.url + '/health')).status).toBe(200);
    } finally {
      await relay.close().catch(() => {});
    }
  });

  describe.skipIf(!postgresAvailable())('on PostgreSQL', () => {
    let pg: PostgresServer;
    beforeAll(async () => {
      pg = await startPostgres();
    });
    afterAll(() => pg?.destroy());

    it('goes 503 when PostgreSQL stops and 200 when it is back', async () => {
      const relay = await startRelay({ config: { sites }, storePath: pg.url });
      try {
        expect((await fetch(relay.url + '/ready')).status).toBe(200);
        pg.stop();
        await until(async () => (await fetch(relay.url + '/ready')).status == 503, {
          times: 100,
          everyMs: 100,
        });
        pg.start();
        await until(async () => (await fetch(relay.url + '/ready')).status == 200, {
          times: 200,
          everyMs: 100,
        });
      } finally {
        await relay.close();
      }
    });
  });
});
