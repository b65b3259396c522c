#!/usr/bin/env node
/**
 * Relay scale-out bench: ingest throughput and ingest→delivery latency of the built relay CLI
 * (dist/relay/cli.js) on SQLite, on PostgreSQL with one process, and on PostgreSQL with two
 * processes; then what one PostgreSQL takes from the store directly (events/s, connections).
 * Loopback only, bounded: each load runs DURATION seconds, each drain at most 60 s.
 *
 *   node build.mjs && node bench/relay-scale.mjs            # starts a throwaway PostgreSQL
 *   DATABASE_URL=postgres://… node bench/relay-scale.mjs      # or uses yours (creates databases in it)
 *   BENCH_DURATION=10 BENCH_CONNECTIONS=20 BENCH_BATCH=10 node bench/relay-scale.mjs [--json]
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { PG_BIN, startPostgres } from './lib/postgres.mjs';

const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist', 'relay', 'cli.js');
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const BATCH = Number(process.env.BENCH_BATCH ?? 10);
const asJson = process.argv.includes('--json');
const say = (line) => !asJson && console.log(line);

if (!existsSync(CLI)) {
  console.error('relay-scale: dist/relay/cli.js is missing; run `node build.mjs` first');
  process.exit(1);
}

/** A throwaway PostgreSQL 15 (bench/lib/postgres.mjs) for this bench's two relays and more. */
const startScalePostgres = async () => {
  const server = await startPostgres('-c max_connections=100');
  if (!server) throw new Error(`relay-scale: no PostgreSQL 15 binaries in ${PG_BIN}`);
  return server;
};

/** CPU seconds a process and its live children have used (Linux /proc), so costs can be compared on a busy machine. */
const TICK = 100;
const cpuOf = (pid) => {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime, stime, cutime, cstime: fields 14–17 of stat(5), here 11–14 after the command name.
    const own =
      (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / TICK;
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean);
    return own + children.reduce((n, child) => n + cpuOf(child), 0);
  } catch {
    return 0;
  }
};

let databases = 0;
const freshDatabase = async (url) => {
  const name = `tracklet_bench_${process.pid}_${databases++}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const parsed = new URL(url);
  parsed.pathname = '/' + name;
  return { url: parsed.toString(), name };
};

/** The destination: records when each event arrives. */
const startWebhook = async () => {
  const arrived = new Map();
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', () => {
      const now = Date.now();
      for (const event of JSON.parse(raw).events)
        if (!arrived.has(event.id)) arrived.set(event.id, now - event.timestamp);
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/hook`,
    arrived,
    close: () => new Promise((r) => (server.closeAllConnections(), server.close(r))),
  };
};

const startRelay = (config, store) =>
  new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [CLI, '--config', config, '--port', '0', '--store', store],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error('relay did not start: ' + err)), 30_000);
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      out += d;
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (!match) return;
      clearTimeout(timer);
      resolve({
        url: match[1],
        pid: child.pid,
        stop: () => new Promise((r) => (child.once('exit', r), child.kill('SIGTERM'))),
      });
    });
    child.once('exit', (code) => reject(new Error(`relay exited with ${code}: ${err}`)));
  });

let sequence = 0;
const runId = Math.random().toString(36).slice(2, 8);
const body = () => {
  const now = Date.now();
  const events = Array.from({ length: BATCH }, () => ({
    type: 'pageview',
    id: `${runId}-${++sequence}`,
    timestamp: now,
    anonymousId: 'anon-' + (sequence % 5000),
    sessionId: 'sess-' + (sequence % 5000),
    url: 'https://shop.example/products/42?utm_source=bench',
    path: '/products/42',
    title: 'Product 42',
    referrer: '',
  }));
  return JSON.stringify({ v: 1, site: 'shop', sentAt: now, events });
};

const load = (url, connections) =>
  autocannon({
    url: url + '/collect',
    connections,
    duration: DURATION,
    requests: [
      {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain;charset=UTF-8', Origin: 'https://shop.example' },
        setupRequest: (request) => ({ ...request, body: body() }),
      },
    ],
  });

const percentile = (sorted, p) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/**
 * One scenario: start `processes` relays on `store`, load them together, wait for every accepted
 * event to be delivered.
 */
const scenario = async (label, store, processes, pgUrl, pgPid) => {
  const hook = await startWebhook();
  const dir = mkdtempSync(join(tmpdir(), 'tracklet-bench-'));
  const config = join(dir, 'relay.json');
  writeFileSync(
    config,
    JSON.stringify({
      delivery: { pollMs: 200, leaseMs: 30_000, timeoutMs: 10_000 },
      sites: {
        shop: {
          origins: ['https://shop.example'],
          destinations: [{ type: 'webhook', url: hook.url, batchSize: 100 }],
        },
      },
    }),
  );
  const relays = [];
  for (let i = 0; i < processes; i++) relays.push(await startRelay(config, store));
  let connectionsHeld = 0;
  const sampler = pgUrl
    ? setInterval(async () => {
        const client = new pg.Client({ connectionString: pgUrl });
        await client.connect().catch(() => {});
        const { rows } = await client
          .query(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'tracklet-relay'",
          )
          .catch(() => ({ rows: [{ n: 0 }] }));
        connectionsHeld = Math.max(connectionsHeld, rows[0].n);
        await client.end().catch(() => {});
      }, 1000)
    : undefined;
  const cpuBefore = {
    relays: relays.reduce((n, r) => n + cpuOf(r.pid), 0),
    pg: pgPid ? cpuOf(pgPid) : 0,
  };
  const started = Date.now();
  // The same total concurrency, split across the processes as a load balancer would.
  const results = await Promise.all(
    relays.map((r) => load(r.url, Math.ceil(CONNECTIONS / processes))),
  );
  const loadEnded = Date.now();
  clearInterval(sampler);
  // Requests still in flight when the load stops may be stored too: count what the store holds.
  await new Promise((r) => setTimeout(r, 500));
  const accepted = (await (await fetch(relays[0].url + '/status')).json()).events;
  const refused = results.reduce((n, r) => n + r.non2xx + r.errors, 0);
  for (let i = 0; i < 600 && hook.arrived.size < accepted; i++)
    await new Promise((r) => setTimeout(r, 100));
  const drainedAfterMs = Date.now() - loadEnded;
  const latencies = [...hook.arrived.values()].sort((a, b) => a - b);
  const cpu = {
    relays: relays.reduce((n, r) => n + cpuOf(r.pid), 0) - cpuBefore.relays,
    pg: pgPid ? cpuOf(pgPid) - cpuBefore.pg : 0,
  };
  await Promise.all(relays.map((r) => r.stop()));
  await hook.close();
  rmSync(dir, { recursive: true, force: true });
  const seconds = (loadEnded - started) / 1000;
  const row = {
    scenario: label,
    processes,
    requestsPerSec: Math.round(results.reduce((n, r) => n + r['2xx'], 0) / seconds),
    eventsPerSec: Math.round(accepted / seconds),
    ingestP50ms: Math.max(...results.map((r) => r.latency.p50)),
    ingestP99ms: Math.max(...results.map((r) => r.latency.p99)),
    refused,
    delivered: hook.arrived.size,
    accepted,
    deliveryP50ms: percentile(latencies, 50),
    deliveryP99ms: percentile(latencies, 99),
    drainedAfterMs,
    // CPU per 1000 events, ingest and delivery together: what a core costs, whatever the machine's load.
    relayCpuMsPer1000: Math.round((cpu.relays * 1e6) / Math.max(1, accepted)),
    ...(pgUrl ? { pgConnections: connectionsHeld } : {}),
    ...(pgPid ? { pgCpuMsPer1000: Math.round((cpu.pg * 1e6) / Math.max(1, accepted)) } : {}),
  };
  say(
    `${label.padEnd(24)} ${String(row.eventsPerSec).padStart(7)} events/s (${row.requestsPerSec} ` +
      `req/s)  ingest p50 ${row.ingestP50ms} ms p99 ${row.ingestP99ms} ms  ` +
      `delivered ${row.delivered}/${row.accepted} (all ${row.drainedAfterMs} ms after the load), ` +
      `latency p50 ${row.deliveryP50ms} ms p99 ${row.deliveryP99ms} ms` +
      `  relay CPU ${row.relayCpuMsPer1000} ms/1000 events` +
      (pgUrl ? `  pg connections ${row.pgConnections}` : '') +
      (pgPid ? `  pg CPU ${row.pgCpuMsPer1000} ms/1000 events` : ''),
  );
  return row;
};

/** PostgreSQL alone: the store's insertEvents from one process, many in flight, no HTTP in between. */
const storeCeiling = async (url, pgPid) => {
  const { openPostgresStore } = await import(join(ROOT, 'dist', 'relay', 'index.js'));
  const store = await openPostgresStore(url, { poolSize: 20 });
  const route = () => ['shop/webhook'];
  let events = 0;
  let statements = 0;
  const deadline = Date.now() + DURATION * 1000;
  const worker = async () => {
    while (Date.now() < deadline) {
      const now = Date.now();
      const batch = Array.from({ length: BATCH }, () => ({
        site: 'shop',
        event: {
          type: 'pageview',
          id: `${runId}-s-${++sequence}`,
          timestamp: now,
          anonymousId: 'a',
          sessionId: 's',
          url: 'https://shop.example/',
          path: '/',
          title: 'T',
          referrer: '',
        },
        receivedAt: now,
        time: now,
        skewMs: 0,
        bot: false,
      }));
      const { inserted } = await store.insertEvents(batch, route);
      events += inserted.length;
      statements++;
    }
  };
  const pgBefore = pgPid ? cpuOf(pgPid) : 0;
  const started = Date.now();
  await Promise.all(Array.from({ length: 20 }, worker));
  const pgCpu = pgPid ? cpuOf(pgPid) - pgBefore : 0;
  const seconds = (Date.now() - started) / 1000;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query(
    "SELECT setting::int AS n FROM pg_settings WHERE name = 'max_connections'",
  );
  await client.end();
  await store.close();
  const row = {
    scenario: 'postgres store, no HTTP',
    insertsPerSec: Math.round(statements / seconds),
    eventsPerSec: Math.round(events / seconds),
    maxConnections: rows[0].n,
    ...(pgPid ? { pgCpuMsPer1000: Math.round((pgCpu * 1e6) / Math.max(1, events)) } : {}),
  };
  say(
    `${row.scenario.padEnd(24)} ${String(row.eventsPerSec).padStart(7)} events/s ` +
      `(${row.insertsPerSec} insert transactions/s of ${BATCH} events, 20 in flight); ` +
      `max_connections ${row.maxConnections}` +
      (pgPid
        ? `; pg CPU ${row.pgCpuMsPer1000} ms/1000 events → one PostgreSQL core ≈ ` +
          `${Math.round(1e6 / Math.max(1, row.pgCpuMsPer1000))} events/s`
        : ''),
  );
  return row;
};

const main = async () => {
  const own = process.env.DATABASE_URL ? undefined : await startScalePostgres();
  const pgUrl = process.env.DATABASE_URL ?? own.url;
  const sqliteDir = mkdtempSync(join(tmpdir(), 'tracklet-bench-sqlite-'));
  say(
    `relay scale bench: ${DURATION} s per run, ${CONNECTIONS} connections, ${BATCH} ` +
      `events per request, ${cpus().length} cores, load ${loadavg()[0].toFixed(1)}`,
  );
  const rows = [];
  try {
    rows.push(await scenario('sqlite, 1 process', join(sqliteDir, 'relay.db'), 1));
    const one = await freshDatabase(pgUrl);
    rows.push(await scenario('postgres, 1 process', one.url, 1, one.url, own?.pid));
    const two = await freshDatabase(pgUrl);
    rows.push(await scenario('postgres, 2 processes', two.url, 2, two.url, own?.pid));
    rows.push(await storeCeiling((await freshDatabase(pgUrl)).url, own?.pid));
  } finally {
    rmSync(sqliteDir, { recursive: true, force: true });
    own?.destroy();
  }
  if (asJson)
    console.log(
      JSON.stringify(
        { duration: DURATION, connections: CONNECTIONS, batch: BATCH, cores: cpus().length, rows },
        null,
        2,
      ),
    );
};

await main();
