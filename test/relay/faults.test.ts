/**
 * Fault tests, each against the relay CLI as a child process: destinations that fail or hang and
 * recover, a killed relay, bad bodies, and dead letters that are listed and re-queued.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
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
  type RelayProcess,
} from './helpers';
import { databuddyMock, tracardiMock, webhookMock, type Mock } from './mocks';

// Child processes and real sockets on a shared, sometimes busy machine: generous bounds (every wait is still bounded).
vi.setConfig({ testTimeout: 90_000, hookTimeout: 180_000 });

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});
// The build (when dist/ is stale) may take a while on a busy machine.
beforeAll(ensureBuilt, 180_000);

/** A relay (CLI child) with a webhook destination (and optionally Databuddy) pointed at mocks. */
const setup = async (
  delivery: Record<string, number>,
  extra: { databuddy?: Mock; tracardi?: Mock; maxBodyBytes?: number } = {},
) => {
  const hook = await webhookMock();
  cleanup.push(() => hook.close());
  const dir = tempDir();
  const destinations: unknown[] = [{ type: 'webhook', url: hook.url + '/hook', batchSize: 10 }];
  if (extra.databuddy)
    destinations.push({ type: 'databuddy', baseUrl: extra.databuddy.url, clientId: 'web-1' });
  if (extra.tracardi)
    destinations.push({
      type: 'tracardi',
      baseUrl: extra.tracardi.url,
      sourceId: 'not-the-right-source',
    });
  const config = writeConfig(dir, {
    maxBodyBytes: extra.maxBodyBytes,
    delivery: { pollMs: 50, backoffBaseMs: 20, backoffMaxMs: 100, timeoutMs: 2000, ...delivery },
    sites: { shop: { origins: ['https://shop.example'], destinations } },
  });
  const storage = join(dir, 'relay.db');
  const start = async () => {
    const relay = await startCli(config, storage);
    cleanup.push(() => (relay.child.exitCode == null ? relay.stop() : Promise.resolve()));
    return relay;
  };
  return { hook, config, storage, start };
};

/** Every event id the mock acknowledged, in order. */
const delivered = (mock: Mock) =>
  mock.accepted.flatMap((r) =>
    Array.isArray(r.body)
      ? r.body.map((x: { eventId: string }) => x.eventId)
      : r.body.events.map((e: TrackletEvent) => e.id),
  );

const events = (n: number) => Array.from({ length: n }, () => pageview());

describe('a destination that fails, then recovers', () => {
  it('answering 500 for a while: every event is delivered once', async () => {
    const databuddy = await databuddyMock('web-1', 'unused');
    cleanup.push(() => databuddy.close());
    // Enough attempts and backoff that the retries outlast a slow machine before the mocks recover.
    const { hook, start } = await setup({ attempts: 50, backoffMaxMs: 300 }, { databuddy });
    hook.mode = 'fail';
    databuddy.mode = 'fail';
    const relay = await start();
    const sent = events(25);
    expect((await post(relay.url, batch(sent))).status).toBe(200);
    await until(async () => (await status(relay.url)).destinations.every((d) => d.retrying == 25));
    hook.mode = 'ok';
    databuddy.mode = 'ok';
    const s = (await until(async () => {
      const s = await status(relay.url);
      return s.destinations.every((d) => d.delivered == 25) && s;
    })) as Awaited<ReturnType<typeof status>>;
    expect(s.destinations.map((d) => d.dead)).toEqual([0, 0]);
    expect(s.destinations[0].lastError).toMatch(/HTTP 500/);
    expect(delivered(hook).sort()).toEqual(sent.map((e) => e.id).sort());
    expect(delivered(databuddy).sort()).toEqual(sent.map((e) => e.id).sort());
  });

  it('hanging past the timeout: every event is delivered once', async () => {
    const { hook, start } = await setup({ attempts: 50, timeoutMs: 300 });
    hook.mode = 'hang';
    hook.hangMs = 1000;
    const relay = await start();
    const sent = events(12);
    await post(relay.url, batch(sent));
    await until(async () =>
      (await status(relay.url)).destinations[0].lastError?.includes('timed out after 300 ms'),
    );
    hook.mode = 'ok';
    await until(async () => (await status(relay.url)).destinations[0].delivered == 12);
    expect(delivered(hook).sort()).toEqual(sent.map((e) => e.id).sort());
  });
});

describe('the relay process', () => {
  it('killed and restarted, keeps its queue and delivers it once', async () => {
    const { hook, start } = await setup({ attempts: 100, leaseMs: 300, backoffMaxMs: 500 });
    hook.mode = 'fail';
    let relay: RelayProcess = await start();
    const sent = events(60);
    for (let i = 0; i < 60; i += 20)
      expect((await post(relay.url, batch(sent.slice(i, i + 20)))).status).toBe(200);
    await until(async () => (await status(relay.url)).destinations[0].retrying == 60);
    await relay.kill();
    hook.mode = 'ok';
    relay = await start();
    await until(async () => (await status(relay.url)).destinations[0].delivered == 60);
    expect((await status(relay.url)).events).toBe(60);
    expect(delivered(hook).sort()).toEqual(sent.map((e) => e.id).sort());
  });
});

describe('bad bodies', () => {
  const good = () => batch([pageview()]);
  const withEvent = (over: Record<string, unknown>) => ({
    ...good(),
    events: [{ ...good().events[0], ...over }],
  });
  const without = (key: string) => {
    const b = good() as unknown as Record<string, unknown>;
    delete b[key];
    return b;
  };
  const eventWithout = (key: string) => {
    const b = good();
    delete (b.events[0] as unknown as Record<string, unknown>)[key];
    return b;
  };
  const rows: [string, unknown, Record<string, string>, number, string][] = [
    ['not JSON', 'hello', {}, 400, '(body)'],
    ['a JSON array', '[]', {}, 400, '(body)'],
    ['sentAt as a string', { ...good(), sentAt: 'now' }, {}, 400, 'sentAt'],
    ['events as an object', { ...good(), events: {} }, {}, 400, 'events'],
    ['no events', { ...good(), events: [] }, {}, 400, 'events'],
    ['a newer version', { ...good(), v: 3 }, {}, 400, 'v'],
    ['no site', without('site'), {}, 400, 'site'],
    ['an event without anonymousId', eventWithout('anonymousId'), {}, 400, 'events.0.anonymousId'],
    ['an event type that is not a string', withEvent({ type: 5 }), {}, 400, 'events.0.type'],
    ['a title that is a number', withEvent({ title: 5 }), {}, 400, 'events.0.title'],
    [
      'a vital named FID',
      withEvent({
        type: 'vital',
        metricName: 'FID',
        metricValue: 5,
        rating: 'good',
        metricId: 'x',
        navigationType: 'navigate',
      }),
      {},
      400,
      'events.0.metricName',
    ],
    ['a huge body', { ...good(), padding: 'x'.repeat(20_000) }, {}, 413, '(body)'],
    ['an unknown site', { ...good(), site: 'elsewhere' }, {}, 403, 'site'],
    ['a foreign origin', good(), { Origin: 'https://evil.example' }, 403, 'Origin'],
    [
      'a form content type',
      good(),
      { 'Content-Type': 'application/x-www-form-urlencoded' },
      415,
      'Content-Type',
    ],
  ];

  it('each gets a clear 4xx naming the field; nothing is stored; the relay keeps serving', async () => {
    const { hook, start } = await setup({}, { maxBodyBytes: 16384 });
    const relay = await start();
    for (const [name, body, headers, code, field] of rows) {
      const response = await post(relay.url, body, headers);
      expect(response.status, name).toBe(code);
      expect(await response.json(), name).toMatchObject({
        field,
        error: expect.any(String),
        message: expect.any(String),
      });
    }
    expect((await status(relay.url)).events).toBe(0);
    expect((await fetch(relay.url + '/health')).status).toBe(200);
    const ok = good();
    expect(await (await post(relay.url, ok)).json()).toEqual({
      ok: true,
      accepted: 1,
      duplicates: 0,
    });
    await until(() => hook.accepted.length == 1);
    expect(hook.violations).toEqual([]);
  });
});

describe('dead letters', () => {
  it('a refused request is dead-lettered at once, listed, and re-queued over HTTP', async () => {
    const { hook, start } = await setup({ attempts: 5 });
    hook.script = [400];
    const relay = await start();
    const [event] = events(1);
    await post(relay.url, batch([event]));
    await until(async () => (await status(relay.url)).destinations[0].dead == 1);
    const { deadLetters } = await (await fetch(relay.url + '/dead-letters')).json();
    expect(deadLetters).toMatchObject([
      {
        destination: 'shop/webhook',
        attempts: 1,
        lastError: expect.stringContaining('HTTP 400'),
        stored: { event: { id: event.id } },
      },
    ]);
    const requeue = await fetch(relay.url + '/dead-letters/requeue', {
      method: 'POST',
      body: JSON.stringify({ destination: 'shop/webhook' }),
    });
    expect(await requeue.json()).toEqual({ requeued: 1 });
    await until(async () => (await status(relay.url)).destinations[0].delivered == 1);
    expect(delivered(hook)).toEqual([event.id]);
  });

  it('after the last attempt, and the CLI lists and re-queues them', async () => {
    const { hook, start, config, storage } = await setup({ attempts: 2 });
    hook.mode = 'fail';
    const relay = await start();
    const sent = events(3);
    await post(relay.url, batch(sent));
    await until(async () => (await status(relay.url)).destinations[0].dead == 3);
    // Not execFileSync: blocking this process would stall the mocks it serves.
    const cli = async (...args: string[]) =>
      (
        await promisify(execFile)(
          process.execPath,
          [CLI, ...args, '--config', config, '--storage', storage],
          { encoding: 'utf8' },
        )
      ).stdout;
    expect(await cli('status')).toMatch(/shop\/webhook\s+0\s+0\s+0\s+3\s+.*HTTP 500/);
    expect(await cli('dead-letters')).toContain('3 dead letter(s)');
    hook.mode = 'ok';
    expect(await cli('dead-letters', '--requeue', '--destination', 'shop/webhook')).toContain(
      'requeued 3',
    );
    await until(async () => (await status(relay.url)).destinations[0].delivered == 3);
    expect(delivered(hook).sort()).toEqual(sent.map((e) => e.id).sort());
  });
});

describe('API limits and refusals', () => {
  it('splits Databuddy batches at 100 custom events and 20 vitals per request', async () => {
    const databuddy = await databuddyMock('web-1', 'unused');
    cleanup.push(() => databuddy.close());
    const { start } = await setup({}, { databuddy });
    const relay = await start();
    const customs = Array.from({ length: 130 }, () =>
      pageview({ type: 'event', name: 'clicked', properties: { n: 1 } } as Partial<TrackletEvent>),
    );
    const vitals = Array.from({ length: 25 }, () =>
      pageview({
        type: 'vital',
        metricName: 'INP',
        metricValue: 40,
        rating: 'good',
        metricId: 'm',
        navigationType: 'navigate',
      } as Partial<TrackletEvent>),
    );
    await post(relay.url, batch(customs.slice(0, 100)));
    await post(relay.url, batch([...customs.slice(100), ...vitals]));
    await until(
      async () =>
        (await status(relay.url)).destinations.find((d) => d.destination == 'shop/databuddy')
          ?.delivered == 155,
    );
    expect(databuddy.violations).toEqual([]);
    const sizes = (path: string) =>
      databuddy.accepted.filter((r) => r.path.startsWith(path)).map((r) => r.body.length);
    expect(Math.max(...sizes('/track'))).toBeLessThanOrEqual(100);
    expect(Math.max(...sizes('/vitals'))).toBeLessThanOrEqual(20);
    expect(delivered(databuddy).sort()).toEqual([...customs, ...vitals].map((e) => e.id).sort());
  });

  it('dead-letters at once what Tracardi refuses for an unknown source (401)', async () => {
    const tracardi = await tracardiMock('the-right-source');
    cleanup.push(() => tracardi.close());
    const { start } = await setup({ attempts: 5 }, { tracardi });
    const relay = await start();
    await post(relay.url, batch(events(2)));
    const s = (await until(async () => {
      const s = await status(relay.url);
      return s.destinations.find((d) => d.destination == 'shop/tracardi')?.dead == 2 && s;
    })) as Awaited<ReturnType<typeof status>>;
    expect(s.destinations.find((d) => d.destination == 'shop/tracardi')!.lastError).toMatch(
      /HTTP 401/,
    );
    expect(tracardi.accepted).toEqual([]);
  });
});
