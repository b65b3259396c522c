/**
 * No event poisons a batch, over HTTP against the relay CLI with a mock of every destination: bad
 * events beside good ones, unknown types, a destination's Retry-After, a batch API refusing one
 * event, properties nested 3,000 deep, and errors that keep a secret webhook URL out of sight.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { TrackletEvent } from '../../src/types';
import {
  batch,
  CLI,
  ensureBuilt,
  pageview,
  post,
  startCli,
  status,
  tempDir,
  until,
  writeConfig,
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

// Child processes and real sockets on a shared, sometimes busy machine: generous bounds (every wait is still bounded).
vi.setConfig({ testTimeout: 90_000, hookTimeout: 180_000 });

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});
beforeAll(ensureBuilt, 180_000);

const DAY = 86_400_000;
const TOKEN = 'admin-token';

/** A relay (CLI child) sending to a mock of every destination. */
const everyDestination = async (
  hookOptions: Record<string, unknown> = {},
  env: Record<string, string> = {},
) => {
  const mocks: Record<string, Mock> = {
    databuddy: await databuddyMock('web-1', 'db-key'),
    tracify: await tracifyMock('site-1', 'tf-key'),
    tracardi: await tracardiMock('src-1'),
    growlytics: await growlyticsMock('gl-key'),
    datacue: await datacueMock('dc-key'),
    webhook: await webhookMock(),
  };
  cleanup.push(() => Promise.all(Object.values(mocks).map((m) => m.close())).then(() => {}));
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
            clientId: 'web-1',
            apiKeyEnv: 'DATABUDDY_KEY',
          },
          {
            type: 'tracify',
            baseUrl: mocks.tracify.url + '/events',
            customerSiteId: 'site-1',
            apiKeyEnv: 'TRACIFY_KEY',
          },
          { type: 'tracardi', baseUrl: mocks.tracardi.url, sourceId: 'src-1' },
          { type: 'growlytics', baseUrl: mocks.growlytics.url, apiKeyEnv: 'GROWLYTICS_KEY' },
          { type: 'datacue', baseUrl: mocks.datacue.url, apiKeyEnv: 'DATACUE_KEY' },
          { type: 'webhook', url: mocks.webhook.url + '/hook', ...hookOptions },
        ],
      },
    },
  });
  const storage = join(dir, 'relay.db');
  const relay = await startCli(config, storage, {
    RELAY_ADMIN: TOKEN,
    DATABUDDY_KEY: 'db-key',
    TRACIFY_KEY: 'tf-key',
    GROWLYTICS_KEY: 'gl-key',
    DATACUE_KEY: 'dc-key',
    ...env,
  });
  cleanup.push(() => (relay.child.exitCode == null ? relay.stop() : Promise.resolve()));
  const cli = async (...args: string[]) =>
    (
      await promisify(execFile)(
        process.execPath,
        [CLI, ...args, '--config', config, '--storage', storage],
        {
          encoding: 'utf8',
          env: {
            ...process.env,
            RELAY_ADMIN: TOKEN,
            DATABUDDY_KEY: 'x',
            TRACIFY_KEY: 'x',
            GROWLYTICS_KEY: 'x',
            DATACUE_KEY: 'x',
            ...env,
          },
        },
      )
    ).stdout;
  const settled = () =>
    until(async () => {
      const s = await status(relay.url, TOKEN);
      return s.destinations.every((d) => d.queued == 0) && s;
    }) as Promise<Awaited<ReturnType<typeof status>>>;
  return { mocks, relay, cli, settled };
};

/** Event ids the webhook mock acknowledged. */
const hookIds = (mock: Mock) =>
  mock.accepted.flatMap((r) => r.body.events.map((e: TrackletEvent) => e.id));
/** A home pageview: every destination (DataCue included) takes it. */
const home = (visitor: string, over: Partial<TrackletEvent> = {}) =>
  pageview({
    anonymousId: visitor,
    sessionId: `s-${visitor}`,
    path: '/',
    url: 'https://shop.example/',
    ...over,
  });

describe('bad events beside good ones', () => {
  it(
    'good events of two visitors reach every destination; sentAt ' +
      '1e20 and a far-future timestamp are refused and visible',
    async () => {
      const { mocks, relay, cli, settled } = await everyDestination();
      const good = [
        home('visitor-a'),
        home('visitor-b'),
        home('visitor-a', {
          type: 'event',
          name: 'purchase',
          properties: { order_id: 'o1', value: 20, currency: 'EUR' },
        } as Partial<TrackletEvent>),
      ];
      const future = home('visitor-c', { timestamp: Date.now() + 30 * DAY });
      const response = await post(relay.url, batch([good[0], future, good[1], good[2]]));
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        ok: true,
        accepted: 3,
        duplicates: 0,
        rejected: [{ index: 1, field: 'timestamp', reason: expect.stringContaining('ahead') }],
      });
      const broken = await post(relay.url, batch([home('visitor-d')], 'shop', 1e20));
      expect(broken.status).toBe(400);
      expect(await broken.json()).toMatchObject({
        error: 'invalid_body',
        field: 'sentAt',
        rejected: [{ index: 0, field: 'sentAt' }],
      });

      const s = await settled();
      for (const d of s.destinations) {
        expect(d.dead, d.destination).toBe(0);
        expect(d.delivered, d.destination).toBe(3);
      }
      for (const [name, mock] of Object.entries(mocks)) expect(mock.violations, name).toEqual([]);
      expect(hookIds(mocks.webhook).sort()).toEqual(good.map((e) => e.id).sort());
      // Each time a destination got is a real one, within the window of now.
      const times = [
        ...mocks.tracardi.accepted.flatMap((r) =>
          r.body.events.map((e: { time: { create: string } }) => Date.parse(e.time.create)),
        ),
        ...mocks.datacue.accepted.map((r) => Date.parse(r.body.timestamp)),
        ...mocks.growlytics.accepted.map((r) => r.body.time),
      ];
      expect(times.length).toBeGreaterThan(0);
      for (const t of times) expect(Math.abs(Date.now() - t)).toBeLessThan(DAY);

      expect(s.events).toBe(3);
      expect((s as unknown as { rejected: number }).rejected).toBe(2);
      const listed = JSON.parse(await cli('rejected', '--json'));
      expect(listed).toMatchObject([
        { site: 'shop', index: 1, field: 'timestamp', raw: expect.stringContaining(future.id) },
        { site: 'shop', index: 0, field: 'sentAt', reason: expect.stringContaining('ahead') },
      ]);
      expect(await cli('status')).toMatch(/events refused: 2/);
      expect(await cli('rejected')).toMatch(/2 refused event\(s\) shown, 2 in all/);
    },
  );

  it('properties nested 3,000 deep are refused at ingest, the relay keeps serving and stores the rest', async () => {
    const { relay, settled, mocks } = await everyDestination();
    let nested: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 3000; i++) nested = { a: nested };
    const ok = home('visitor-a');
    const deep = home('visitor-b', { properties: nested } as Partial<TrackletEvent>);
    const response = await post(relay.url, JSON.stringify(batch([ok, deep])));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      accepted: 1,
      rejected: [
        {
          index: 1,
          field: expect.stringMatching(/^properties\.a\./),
          reason: expect.stringContaining('deeper than 8 levels'),
        },
      ],
    });
    const alone = await post(
      relay.url,
      batch([home('visitor-c', { properties: nested } as Partial<TrackletEvent>)]),
    );
    expect(alone.status).toBe(400);
    expect((await fetch(relay.url + '/health')).status).toBe(200);
    await settled();
    expect(hookIds(mocks.webhook)).toEqual([ok.id]);
    expect((await status(relay.url, TOKEN)) as unknown).toMatchObject({ events: 1, rejected: 2 });
  });
});

describe('events of a type or metric this relay does not know', () => {
  it('are stored and sent to the webhook only; the known ones beside them reach every destination', async () => {
    const { relay, settled, mocks } = await everyDestination();
    const known = home('visitor-a');
    const form = {
      ...home('visitor-a'),
      type: 'form_submit',
      formId: 'contact',
    } as unknown as TrackletEvent;
    const metric = {
      ...home('visitor-a'),
      type: 'vital',
      metricName: 'FID2',
      metricValue: 12,
      rating: 'good',
      metricId: 'm1',
      navigationType: 'navigate',
    } as unknown as TrackletEvent;
    const response = await post(relay.url, batch([form, known, metric]));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, accepted: 3, duplicates: 0 });
    const s = await settled();
    expect(s.events).toBe(3);
    expect(hookIds(mocks.webhook).sort()).toEqual([form.id, known.id, metric.id].sort());
    expect(
      mocks.webhook.accepted
        .flatMap((r) => r.body.events)
        .find((e: { id: string }) => e.id == form.id),
    ).toEqual(form);
    for (const d of s.destinations) {
      expect(d.dead, d.destination).toBe(0);
      expect(d.delivered, d.destination).toBe(d.destination == 'shop/webhook' ? 3 : 1);
      // Skipped, not failed: counted for every destination that cannot take them.
      expect(d.counters.skippedUnknown ?? 0, d.destination).toBe(
        d.destination == 'shop/webhook' ? 0 : 2,
      );
    }
    for (const [name, mock] of Object.entries(mocks)) expect(mock.violations, name).toEqual([]);
    expect(
      mocks.databuddy.accepted.flatMap((r) => r.body.map((x: { eventId: string }) => x.eventId)),
    ).toEqual([known.id]);
  });
});

describe('a destination that answers 429 with Retry-After', () => {
  it('gets its next request no sooner than Retry-After says; the other destinations are not held up', async () => {
    const { relay, settled, mocks } = await everyDestination();
    for (const mock of [mocks.webhook, mocks.growlytics]) {
      mock.script = [429];
      mock.scriptHeaders = { 'Retry-After': '2' };
    }
    const events = [home('visitor-a'), home('visitor-b'), home('visitor-c')];
    expect((await post(relay.url, batch(events))).status).toBe(200);
    await until(() => mocks.webhook.accepted.length == 1 && mocks.growlytics.accepted.length == 3, {
      times: 200,
      everyMs: 50,
    });
    for (const name of ['webhook', 'growlytics']) {
      const [refused, ...later] = mocks[name].log;
      expect(refused.status, name).toBe(429);
      // Growlytics sends one event per request: none of the lease's others went out during the wait.
      const waited = Math.min(...later.map((r) => r.at)) - refused.at;
      console.log(`${name}: Retry-After: 2 → next request ${waited} ms later`);
      expect(waited, name).toBeGreaterThanOrEqual(2000);
    }
    // Databuddy delivered the same events without waiting for the others' pause.
    expect(mocks.databuddy.log[0].at - mocks.webhook.log[0].at).toBeLessThan(1500);
    const s = await settled();
    // Nothing was dead-lettered, and every destination got all three.
    for (const d of s.destinations) expect(d.dead, d.destination).toBe(0);
    for (const d of s.destinations) expect(d.delivered, d.destination).toBe(3);
  });
});

describe('a batch API refusing one event (400)', () => {
  it(
    'is narrowed down: only that event is dead-lettered, the ' +
      'rest delivered; the secret webhook URL appears nowhere',
    async () => {
      const hookUrlOf = (mock: Mock) => mock.url + '/hooks/T0/s3cr3t-path?token=t0ken-value';
      // The webhook URL comes from the environment (urlEnv): set once the mock's port is known.
      const mock = await webhookMock();
      cleanup.push(() => mock.close());
      const { relay, settled, cli } = await everyDestination(
        { url: undefined, urlEnv: 'HOOK_URL', batchSize: 16 },
        { HOOK_URL: hookUrlOf(mock) },
      );
      const events = Array.from({ length: 12 }, (_, i) => home(`visitor-${i % 3}`));
      const bad = events[7];
      mock.refuseIf = (body) => body.events.some((e: TrackletEvent) => e.id == bad.id);
      expect((await post(relay.url, batch(events))).status).toBe(200);
      const s = await settled();
      const hook = s.destinations.find((d) => d.destination == 'shop/webhook')!;
      expect(hook).toMatchObject({ delivered: 11, dead: 1 });
      expect(hookIds(mock).sort()).toEqual(
        events
          .filter((e) => e != bad)
          .map((e) => e.id)
          .sort(),
      );
      // 12 events: at most 1 + 2·⌈log2 12⌉ requests to isolate one.
      expect(mock.log.length).toBeLessThanOrEqual(9);
      const { deadLetters } = await (
        await fetch(relay.url + '/dead-letters', { headers: { Authorization: `Bearer ${TOKEN}` } })
      ).json();
      expect(
        deadLetters.map((d: { stored: { event: { id: string } } }) => d.stored.event.id),
      ).toEqual([bad.id]);
      const shown = [
        JSON.stringify(deadLetters),
        JSON.stringify(s),
        relay.stderr(),
        await cli('status'),
        await cli('dead-letters'),
      ].join('\n');
      expect(shown).toContain('HTTP 400');
      expect(shown).not.toMatch(/s3cr3t|t0ken/);
    },
  );
});
