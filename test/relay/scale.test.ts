/**
 * Scale-out: several relay processes (the built CLI, `--store postgres://…`) on one real
 * PostgreSQL, delivering to local webhooks. Every event is stored once and delivered at least once;
 * exactly once unless a process dies mid-send, and then only within the lease (README, "Scaling out").
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrackletEvent } from '../../src/types';
import { batch, CLI, ensureBuilt, pageview, post, tempDir, until, writeConfig } from './helpers';
import { postgresAvailable, startPostgres, type PostgresServer } from './postgres-server';

interface Hook {
  url: string;
  /** Per path (`/a`, `/b`): event id → times received, and times answered 200. */
  received: Record<string, Map<string, number[]>>;
  acked: Record<string, Map<string, number>>;
  /** Hold requests unanswered (a destination that hangs), so their deliveries stay leased. */
  hang: boolean;
  close(): Promise<void>;
}

/** A webhook destination that records each event id it receives, when, and whether it answered. */
const startHook = async (): Promise<Hook> => {
  const held: ServerResponse[] = [];
  const hook: Hook = {
    url: '',
    received: { '/a': new Map(), '/b': new Map() },
    acked: { '/a': new Map(), '/b': new Map() },
    hang: false,
    close: async () => {},
  };
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', () => {
      const path = req.url ?? '/';
      const ids = (JSON.parse(raw).events as TrackletEvent[]).map((e) => e.id);
      for (const id of ids)
        hook.received[path].set(id, [...(hook.received[path].get(id) ?? []), Date.now()]);
      if (hook.hang) return void held.push(res);
      for (const id of ids) hook.acked[path].set(id, (hook.acked[path].get(id) ?? 0) + 1);
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  hook.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  hook.close = () =>
    new Promise((resolve) => {
      held.forEach((res) => res.destroy());
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return hook;
};

interface Relay {
  url: string;
  child: ChildProcess;
  log: () => string;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

const running = new Set<Relay>();

/** Starts `node dist/relay/cli.js --store <url>` and waits (≤ 15 s) for its listening line. */
const startRelay = async (configPath: string, store: string): Promise<Relay> => {
  const child = spawn(
    process.execPath,
    [CLI, '--config', configPath, '--port', '0', '--store', store],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('relay did not start: ' + err)), 15_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) resolve(match[1]);
      if (match) clearTimeout(timer);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`relay exited with ${code}: ${err}`));
    });
  });
  const relay: Relay = {
    url,
    child,
    log: () => err,
    stop: async () => {
      if (child.exitCode == null && child.signalCode == null) child.kill('SIGTERM');
      await exited;
      running.delete(relay);
    },
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
      running.delete(relay);
    },
  };
  running.add(relay);
  return relay;
};

const events = (n: number) => Array.from({ length: n }, () => pageview());

// Child processes on a shared, busy machine: generous bounds, each still finite.
describe.runIf(postgresAvailable())(
  'relay processes sharing one PostgreSQL',
  { timeout: 120_000 },
  () => {
    let server: PostgresServer;
    let hook: Hook;
    let databases = 0;
    const dir = tempDir();

    beforeAll(async () => {
      await ensureBuilt();
      server = await startPostgres();
    });
    afterAll(async () => {
      await Promise.all([...running].map((r) => r.stop()));
      await hook?.close();
      server?.destroy();
      rmSync(dir, { recursive: true, force: true });
    });

    /** A fresh database and a config delivering every event to the webhook's /a and /b. */
    const setUp = async (delivery: Record<string, number>) => {
      hook = await startHook();
      const name = `scale_${databases++}`;
      const admin = new pg.Client({ connectionString: server.url });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${name}`);
      await admin.end();
      const config = writeConfig(dir, {
        delivery: {
          pollMs: 100,
          timeoutMs: 60_000,
          attempts: 50,
          backoffBaseMs: 100,
          backoffMaxMs: 500,
          ...delivery,
        },
        sites: {
          shop: {
            origins: ['https://shop.example'],
            destinations: [
              { type: 'webhook', name: 'a', url: hook.url + '/a' },
              { type: 'webhook', name: 'b', url: hook.url + '/b' },
            ],
          },
        },
      });
      return { config, database: server.url.replace(/\/postgres$/, `/${name}`) };
    };
    const query = async (database: string, sql: string) => {
      const client = new pg.Client({ connectionString: database });
      await client.connect();
      const { rows } = await client.query(sql);
      await client.end();
      return rows;
    };
    const countStored = async (database: string) =>
      (await query(database, 'SELECT count(*)::int AS n FROM events'))[0].n as number;
    const allAcked = (ids: string[]) => () =>
      ['/a', '/b'].every((path) => ids.every((id) => hook.acked[path].has(id)));

    it(
      'stores every event once and delivers it to each destination ' +
        'exactly once, batches interleaved between two processes',
      async () => {
        const { config, database } = await setUp({ leaseMs: 10_000 });
        const relays = [await startRelay(config, database), await startRelay(config, database)];
        const sent: string[] = [];
        const results: { accepted: number; duplicates: number }[] = [];
        for (let i = 0; i < 30; i++) {
          const body = batch(events(5));
          sent.push(...body.events.map((e) => e.id));
          // Every fifth batch reaches both processes at once, as after a retried beacon behind a load balancer.
          const targets = i % 5 == 0 ? relays : [relays[i % 2]];
          for (const response of await Promise.all(targets.map((r) => post(r.url, body)))) {
            expect(response.status).toBe(200);
            results.push(await response.json());
          }
        }
        expect(results.reduce((n, r) => n + r.accepted, 0)).toBe(150);
        expect(results.reduce((n, r) => n + r.duplicates, 0)).toBe(30);
        await until(allAcked(sent), { times: 600, everyMs: 100 });
        // Give both workers several more polls to send anything twice.
        await new Promise((r) => setTimeout(r, 1000));
        for (const path of ['/a', '/b']) {
          expect([...hook.received[path].values()].every((times) => times.length == 1)).toBe(true);
          expect(hook.received[path].size).toBe(150);
        }
        expect(await countStored(database)).toBe(150);
        // Both processes did part of the sending.
        for (const relay of relays) {
          const status = await (await fetch(relay.url + '/status')).json();
          expect(status.destinations.some((d: { recent: unknown[] }) => d.recent.length > 0)).toBe(
            true,
          );
        }
        await Promise.all(relays.map((r) => r.stop()));
        // `tracklet-relay status` reads the shared queue from any machine.
        const shown = JSON.parse(
          execFileSync(process.execPath, [
            CLI,
            'status',
            '--json',
            '--config',
            config,
            '--store',
            database,
          ]).toString(),
        );
        expect(shown.events).toBe(150);
        expect(
          shown.destinations.map((d: { delivered: number; queued: number }) => [
            d.delivered,
            d.queued,
          ]),
        ).toEqual([
          [150, 0],
          [150, 0],
        ]);
        await hook.close();
      },
    );

    it('takes over the leased deliveries of a process killed mid-send once their lease runs out', async () => {
      const { config, database } = await setUp({ leaseMs: 1500 });
      hook.hang = true;
      const first = await startRelay(config, database);
      const body = batch(events(15));
      const ids = body.events.map((e) => e.id);
      expect((await post(first.url, body)).status).toBe(200);
      // The first process has leased all of them and is waiting on the hanging destination.
      await until(
        () => ['/a', '/b'].every((path) => ids.every((id) => hook.received[path].has(id))),
        { times: 400, everyMs: 50 },
      );
      const leases = await query(
        database,
        'SELECT destination, event_id, lease_until FROM deliveries',
      );
      const leaseUntil = new Map(
        leases.map((r) => [`${r.destination}:${r.event_id}`, Number(r.lease_until)]),
      );
      expect(leases).toHaveLength(30);
      const second = await startRelay(config, database);
      await first.kill();
      hook.hang = false;
      await until(allAcked(ids), { times: 600, everyMs: 100 });
      await new Promise((r) => setTimeout(r, 500));
      for (const path of ['/a', '/b']) {
        for (const id of ids) {
          const [byFirst, bySecond, ...more] = hook.received[path].get(id)!;
          expect(more).toEqual([]);
          // Sent again by the survivor, under the same event id, only once the lease had run out.
          expect(byFirst).toBeLessThan(leaseUntil.get(`shop${path}:${id}`)!);
          expect(bySecond).toBeGreaterThanOrEqual(leaseUntil.get(`shop${path}:${id}`)!);
          expect(hook.acked[path].get(id)).toBe(1);
        }
      }
      expect(await countStored(database)).toBe(15);
      await second.stop();
      await hook.close();
    });

    it('answers 503 while the database is down and delivers every event accepted before and after', async () => {
      const { config, database } = await setUp({ leaseMs: 3000 });
      const relay = await startRelay(config, database);
      const accepted: string[] = [];
      const refused: ReturnType<typeof batch>[] = [];
      const send = async () => {
        const body = batch(events(3));
        const response = await post(relay.url, body);
        if (response.status == 200) accepted.push(...body.events.map((e) => e.id));
        else {
          expect(response.status).toBe(503);
          expect(await response.json()).toMatchObject({ error: 'store_unavailable' });
          refused.push(body);
        }
        return response.status;
      };
      for (let i = 0; i < 5; i++) expect(await send()).toBe(200);
      server.stop();
      const during: number[] = [];
      for (let i = 0; i < 5; i++) {
        during.push(await send());
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(during).toEqual([503, 503, 503, 503, 503]);
      server.start();
      // The pool reconnects by itself: ingest recovers within a few tries.
      await until(async () => (await send()) == 200, { times: 200, everyMs: 100 });
      for (let i = 0; i < 5; i++) expect(await send()).toBe(200);
      // The browser's outbox sends the refused batches again.
      for (const body of refused.splice(0)) {
        expect((await post(relay.url, body)).status).toBe(200);
        accepted.push(...body.events.map((e) => e.id));
      }
      await until(allAcked(accepted), { times: 600, everyMs: 100 });
      expect(relay.child.exitCode).toBe(null);
      expect(await countStored(database)).toBe(accepted.length);
      for (const path of ['/a', '/b'])
        for (const id of accepted) expect(hook.acked[path].get(id)).toBeGreaterThanOrEqual(1);
      await relay.stop();
      await hook.close();
    });
  },
);
