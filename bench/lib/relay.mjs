// Part 4: the relay against the machine's floor, loaded the same way in one run. The floor
// (floor-server.mjs) parses and stores each batch and nothing else; the relay is the built
// `tracklet-relay` CLI with two webhook destinations answered at once by a local sink, so delivery
// runs as in production. Each target runs in its own process on 127.0.0.1, under unique 20-event
// batches from autocannon (10 connections, DURATION seconds); then the sink's count is checked
// against what was accepted. PostgreSQL is a throwaway PostgreSQL 15 server, removed afterwards.
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { benchEvent } from './bench-event.mjs';
import { freePort, PG_BIN, serverCpuSeconds, startPostgres } from './postgres.mjs';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/relay/cli.js');
export const BATCH = 20;
export const CONNECTIONS = 10;
export const DURATION = Number(process.env.BENCH_RELAY_SECONDS) || 8;
/**
 * Rounds of floor → relay on SQLite → relay on PostgreSQL, one after the other (BENCH_RELAY_ROUNDS,
 * default 1). On a shared machine the load of other work changes between two targets' turns: each
 * round's ratio is taken against that round's floor, and the table shows each target's median round.
 */
export const ROUNDS = Math.max(1, Number(process.env.BENCH_RELAY_ROUNDS) || 1);
/**
 * `BENCH_RELAY_COMPARE="NAME=VALUE …"`: each round also runs the relay (SQLite, then PostgreSQL) with
 * this environment, as extra rows marked with it, for an A/B comparison within one round.
 */
const COMPARE = Object.fromEntries(
  (process.env.BENCH_RELAY_COMPARE || '')
    .split(/\s+/)
    .filter((pair) => pair.includes('='))
    .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
);
/**
 * `BENCH_RELAY_COMPARE_CLI=path/to/dist/relay/cli.js`: the compare rows run this build of the relay
 * (another checkout's, e.g. main's) instead of this one's, with BENCH_RELAY_COMPARE's environment if
 * any: an A/B of two builds (schema versions included) within each round.
 */
const COMPARE_CLI = process.env.BENCH_RELAY_COMPARE_CLI
  ? resolve(process.env.BENCH_RELAY_COMPARE_CLI)
  : '';
/**
 * `BENCH_RELAY_STATEMENTS=1`: PostgreSQL loads pg_stat_statements, and each PostgreSQL row prints its
 * most expensive statements (execution time and WAL per accepted event).
 */
const STATEMENTS = process.env.BENCH_RELAY_STATEMENTS == '1';
/** Node flags for the relay process, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it under the load. */
const RELAY_NODE_ARGS = (process.env.BENCH_RELAY_NODE_ARGS || '').split(/\s+/).filter(Boolean);
/**
 * `BENCH_RELAY_LOOP=1`: the floor and relay processes preload loop-probe.cjs, and each row gets the
 * event loop's delay under the load (`loop`: median and worst 500 ms window's p99, the worst delay,
 * the longest GC pause), to tell long synchronous turns from waiting for a core.
 */
const LOOP = process.env.BENCH_RELAY_LOOP == '1';
const PROBE = join(import.meta.dirname, 'loop-probe.cjs');
let probes = 0;
/** Node flags and environment of a probed process, and the figures of its windows from `from` to `to`. */
const probe = (dir) => {
  if (!LOOP) return { args: [], env: {}, read: () => undefined };
  const file = join(dir, `loop-${++probes}.jsonl`);
  return {
    args: ['--require', PROBE],
    env: { TRACKLET_LOOP_PROBE_FILE: file },
    read: (from, to) => {
      let windows = [];
      try {
        windows = readFileSync(file, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line))
          .filter((w) => w.at > from + 500 && w.at <= to);
      } catch {
        return undefined;
      }
      if (!windows.length) return undefined;
      const p99s = windows.map((w) => w.p99).sort((a, b) => a - b);
      const most = (key) => Math.max(...windows.map((w) => w[key]));
      return {
        windows: windows.length,
        elu: windows.reduce((n, w) => n + w.elu, 0) / windows.length,
        p50: windows.map((w) => w.p50).sort((a, b) => a - b)[Math.floor(windows.length / 2)],
        p99: p99s[Math.floor(p99s.length / 2)],
        worstP99: p99s[p99s.length - 1],
        max: most('max'),
        gcMaxMs: most('gcMaxMs'),
        gcMaxKind: windows.find((w) => w.gcMaxMs == most('gcMaxMs'))?.gcMaxKind,
        gcShare: windows.reduce((n, w) => n + w.gcMs, 0) / (windows.length * 500),
      };
    },
  };
};

/** How long the sink gets, after the load, to receive every accepted event from both destinations. */
const DRAIN_MS = 60_000;

/** CPU seconds (user + system) a process has used so far (Linux /proc; 0 elsewhere). */
const cpuSeconds = (pid) => {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime and stime, fields 14 and 15 of stat(5), in clock ticks (100 a second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
};

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** Figures of one autocannon run: events/s counts only 2xx answers. */
const figures = (result) => ({
  eventsPerSecond: (result['2xx'] * BATCH) / result.duration,
  requestsPerSecond: result['2xx'] / result.duration,
  accepted: result['2xx'] * BATCH,
  p50: result.latency.p50,
  p99: result.latency.p99,
  max: result.latency.max,
  non2xx: result.non2xx,
  statuses: Object.fromEntries(
    Object.entries(result.statusCodeStats || {}).map(([code, s]) => [code, s.count]),
  ),
  errors: result.errors + result.timeouts,
});

/** Spawns a process and resolves once `ready(line)` matches a line of its output; rejects after 30 s. */
const spawnUntil = (args, ready, options = {}) =>
  new Promise((done, fail) => {
    const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'], ...options });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(
      () => (child.kill(), fail(new Error('did not start within 30 s: ' + err.slice(0, 300)))),
      30_000,
    );
    const lines = createInterface({ input: child.stdout });
    const onExit = (code) => (
      clearTimeout(timer),
      fail(new Error(`exited with ${code}: ${err.slice(0, 300)}`))
    );
    child.once('exit', onExit);
    lines.on('line', (line) => {
      const url = ready(line);
      if (!url) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      done({ child, url, lines, stderr: () => err });
    });
  });

/** Ends a child: closes its input (the floor's signal) and sends SIGTERM (the relay's); resolves on exit. */
const stopChild = (child) =>
  new Promise((done) => {
    if (child.exitCode != null || child.signalCode != null) return done();
    child.once('exit', () => done());
    child.stdin.end();
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  });

/** The sink both webhook destinations post to: records the ids that arrived, per destination (path). */
const startSink = async () => {
  const arrived = { a: new Set(), b: new Set() };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const ids = arrived[req.url.slice(1)];
      try {
        for (const e of JSON.parse(Buffer.concat(chunks).toString('utf8')).events || [])
          ids?.add(e.id);
      } catch {
        // Counted as not arrived.
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    arrived,
    close: () => new Promise((done) => (server.closeAllConnections(), server.close(() => done()))),
  };
};

/** Loads one target and notes the ids of every event it accepted (2xx), to check the sink against. */
const loadAndTrack = async (url) => {
  const accepted = new Set();
  const result = await autocannon({
    url: url + '/collect',
    method: 'POST',
    connections: CONNECTIONS,
    duration: DURATION,
    headers: {
      'content-type': 'text/plain;charset=UTF-8',
      origin: 'https://shop.example',
      'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) bench',
    },
    requests: [
      {
        setupRequest: (request, context) => {
          const now = Date.now();
          const events = Array.from({ length: BATCH }, () => benchEvent(now));
          context.ids = events.map((e) => e.id);
          return { ...request, body: JSON.stringify({ v: 1, site: 'shop', sentAt: now, events }) };
        },
        onResponse: (status, _body, context) => {
          if (status >= 200 && status < 300) for (const id of context.ids || []) accepted.add(id);
        },
      },
    ],
  });
  return { ...figures(result), acceptedIds: accepted };
};

/** The floor on a fresh SQLite file. */
const measureFloor = async (dir, round = 0) => {
  const loop = probe(dir);
  const { child, url, lines } = await spawnUntil(
    [
      ...loop.args,
      join(import.meta.dirname, 'floor-server.mjs'),
      join(dir, `floor-${round}.sqlite`),
    ],
    (line) => line.startsWith('{"url"') && JSON.parse(line).url,
    { env: { ...process.env, ...loop.env } },
  );
  let stored;
  lines.on('line', (line) => line.startsWith('{"stored"') && (stored = JSON.parse(line).stored));
  try {
    const cpuBefore = cpuSeconds(child.pid);
    const loadStarted = Date.now();
    const { acceptedIds, ...row } = await loadAndTrack(url);
    const cpu = cpuSeconds(child.pid) - cpuBefore;
    await sleep(LOOP ? 600 : 0);
    await stopChild(child);
    return {
      loop: loop.read(loadStarted, Date.now() - 600),
      target: 'floor (node:http + JSON.parse + SQLite WAL)',
      store: 'sqlite',
      ...row,
      accepted: acceptedIds.size,
      stored,
      cpuUsPerEvent: acceptedIds.size ? (cpu * 1e6) / acceptedIds.size : undefined,
    };
  } finally {
    await stopChild(child);
  }
};

/** The relay CLI on `store` (a file or a postgres:// URL), delivering to the sink's two webhooks. */
const measureRelay = async (dir, store, label, env = {}, pg = undefined, cli = CLI) => {
  // Each PostgreSQL row starts from an empty database of its own, as each SQLite row from a new file.
  if (pg) store = await pg.database();
  const sink = await startSink();
  const config = join(dir, `relay-${label}.json`);
  writeFileSync(
    config,
    JSON.stringify({
      sites: {
        shop: {
          origins: ['https://shop.example'],
          destinations: [
            { type: 'webhook', name: 'a', url: sink.url + '/a' },
            { type: 'webhook', name: 'b', url: sink.url + '/b' },
          ],
        },
      },
    }),
  );
  let child;
  const loop = probe(dir);
  try {
    const started = await spawnUntil(
      [
        ...RELAY_NODE_ARGS,
        ...loop.args,
        cli,
        'serve',
        '--config',
        config,
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--store',
        store,
      ],
      (line) => /listening on (http:\/\/\S+)/.exec(line)?.[1],
      { env: { ...process.env, ...env, ...loop.env } },
    );
    child = started.child;
    const cpuBefore = cpuSeconds(child.pid);
    const serverBefore = pg ? serverCpuSeconds(pg.data) : 0;
    const loadStarted = Date.now();
    const { acceptedIds, ...row } = await loadAndTrack(started.url);
    // Delivery keeps running after the load: wait, bounded, until both destinations hold every accepted event.
    const loadEnded = Date.now();
    if (LOOP) await sleep(600);
    const loopFigures = loop.read(loadStarted, loadEnded);
    const missing = () =>
      [...acceptedIds].filter((id) => !sink.arrived.a.has(id) || !sink.arrived.b.has(id)).length;
    while (
      Date.now() - loadEnded < DRAIN_MS &&
      (sink.arrived.a.size < acceptedIds.size ||
        sink.arrived.b.size < acceptedIds.size ||
        missing())
    )
      await sleep(250);
    // Ingest and delivery both: the relay's CPU from the start of the load until the sink had every event.
    const cpu = cpuSeconds(child.pid) - cpuBefore;
    const serverCpu = pg ? serverCpuSeconds(pg.data) - serverBefore : 0;
    const statements = pg && STATEMENTS ? await topStatements(store, acceptedIds.size) : undefined;
    return {
      cpuUsPerEvent: acceptedIds.size ? (cpu * 1e6) / acceptedIds.size : undefined,
      // PostgreSQL's own CPU over the same time (the relay's column does not include it).
      ...(pg && acceptedIds.size
        ? { serverCpuUsPerEvent: (serverCpu * 1e6) / acceptedIds.size }
        : {}),
      target: `tracklet-relay (${label}, 2 webhooks delivering)`,
      store: label,
      ...row,
      accepted: acceptedIds.size,
      arrivedA: sink.arrived.a.size,
      arrivedB: sink.arrived.b.size,
      lost: missing(),
      drainedMs: Date.now() - loadEnded,
      loop: loopFigures,
      ...(statements ? { statements } : {}),
    };
  } finally {
    if (child) await stopChild(child);
    await sink.close();
  }
};

/** Runs one statement on a new connection to `url`; its rows. */
const sql = async (url, text, values = []) => {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows;
  } finally {
    await client.end();
  }
};

/** The statements that took PostgreSQL longest in the database at `url`, per accepted event. */
const topStatements = async (url, events) =>
  (
    await sql(
      url,
      `SELECT calls, total_exec_time, wal_bytes, regexp_replace(query, '\\s+', ' ', 'g') AS query
       FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
       ORDER BY total_exec_time DESC LIMIT 5`,
    )
  ).map((r) => ({
    calls: Number(r.calls),
    usPerEvent: (r.total_exec_time * 1000) / Math.max(1, events),
    walPerEvent: Number(r.wal_bytes) / Math.max(1, events),
    query: r.query.slice(0, 100),
  }));

/** A throwaway PostgreSQL 15 (bench/lib/postgres.mjs) with `database()`: a new empty database of it. */
const startBenchPostgres = async () => {
  const server = await startPostgres(
    STATEMENTS ? '-c shared_preload_libraries=pg_stat_statements' : '',
  );
  if (!server) return undefined;
  let databases = 0;
  /** A new empty database on this server (pg_stat_statements there when asked): its URL. */
  const database = async () => {
    const name = `bench_${++databases}`;
    await sql(server.url, `CREATE DATABASE ${name}`);
    const at = server.url.replace(/\/postgres$/, '/' + name);
    if (STATEMENTS) await sql(at, 'CREATE EXTENSION pg_stat_statements');
    return at;
  };
  return { ...server, database };
};

/** Floor, relay on SQLite and relay on PostgreSQL, one after the other; `{ unavailable }` without a built relay. */
/** The BENCH_RELAY_COMPARE rows of one round: the relay again with that environment. */
const compareRound = async (dir, round, pg, rows, attempt, suffix) => {
  const mark = [
    ...(COMPARE_CLI ? [COMPARE_CLI.replace(ROOT + '/', '')] : []),
    ...Object.entries(COMPARE).map(([name, value]) => `${name}=${value}`),
  ].join(' ');
  const cli = COMPARE_CLI || CLI;
  const marked = (row) => ({ ...row, target: `${row.target} [${mark}]` });
  await attempt(rows, `relay on SQLite [${mark}]` + suffix, async () =>
    marked(
      await measureRelay(
        dir,
        join(dir, `relay-${round}-b.sqlite`),
        'SQLite',
        COMPARE,
        undefined,
        cli,
      ),
    ),
  );
  if (pg)
    await attempt(rows, `relay on PostgreSQL [${mark}]` + suffix, async () =>
      marked(await measureRelay(dir, pg.url, 'PostgreSQL', COMPARE, pg, cli)),
    );
};

export const measureRelayVsFloor = async ({ log = console.log } = {}) => {
  if (!existsSync(CLI)) return { unavailable: 'dist/relay/cli.js is missing' };
  const dir = mkdtempSync(join(tmpdir(), 'tracklet-bench-relay-'));
  const rounds = [];
  const notes = [];
  const attempt = async (rows, name, run) => {
    try {
      const row = await run();
      rows.push(row);
      log(
        `bench: ${name}: ${Math.round(row.eventsPerSecond)} events/s, p99 ${row.p99} ms` +
          `, ${Math.round(row.cpuUsPerEvent ?? 0)} µs CPU/event` +
          (row.serverCpuUsPerEvent != null
            ? ` + PostgreSQL ${Math.round(row.serverCpuUsPerEvent)} µs`
            : '') +
          (row.lost != null
            ? `, ${row.lost} of ${row.accepted} accepted events missing at the sink` +
              ` (all there ${row.drainedMs} ms after the load)`
            : '') +
          (row.loop
            ? `; loop delay p50 ${row.loop.p50} / p99 ${row.loop.p99} (worst window ${row.loop.worstP99})` +
              ` / max ${row.loop.max} ms, ELU ${row.loop.elu.toFixed(2)}, GC ${(row.loop.gcShare * 100).toFixed(1)} %` +
              ` (longest ${row.loop.gcMaxMs} ms, ${row.loop.gcMaxKind})`
            : '') +
          (row.statements
            ? row.statements
                .map(
                  (s) =>
                    `\n    ${s.usPerEvent.toFixed(1)} µs, ${Math.round(s.walPerEvent)} B WAL / event, ` +
                    `${s.calls} calls: ${s.query}`,
                )
                .join('')
            : ''),
      );
    } catch (error) {
      notes.push(`${name}: not measured (${String(error.message || error).split('\n')[0]})`);
      log(`bench: ${name} failed: ${error.message}`);
    }
  };
  let pg;
  try {
    try {
      pg = await startBenchPostgres();
      if (!pg) notes.push(`relay on PostgreSQL: skipped, no PostgreSQL 15 binaries in ${PG_BIN}`);
    } catch (error) {
      notes.push(
        `relay on PostgreSQL: skipped, the throwaway server did not start (${String(error.message).split('\n')[0]})`,
      );
    }
    for (let round = 0; round < ROUNDS; round++) {
      const rows = [];
      const suffix = ROUNDS > 1 ? ` (round ${round + 1} of ${ROUNDS})` : '';
      await attempt(rows, 'floor' + suffix, () => measureFloor(dir, round));
      await attempt(rows, 'relay on SQLite' + suffix, () =>
        measureRelay(dir, join(dir, `relay-${round}.sqlite`), 'SQLite'),
      );
      if (pg)
        await attempt(rows, 'relay on PostgreSQL' + suffix, () =>
          measureRelay(dir, pg.url, 'PostgreSQL', {}, pg),
        );
      if (Object.keys(COMPARE).length || COMPARE_CLI)
        await compareRound(dir, round, pg, rows, attempt, suffix);
      const floor = rows.find((r) => r.target.startsWith('floor'));
      for (const row of rows)
        row.ratio = floor ? row.eventsPerSecond / floor.eventsPerSecond : undefined;
      rounds.push(rows);
    }
  } finally {
    pg?.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  // Each target's median round by events/s (its ratio is against the floor of that same round).
  const targets = [...new Set(rounds.flat().map((r) => r.target))];
  const rows = targets.map((target) => {
    const runs = rounds
      .flatMap((rows) => rows.filter((r) => r.target == target))
      .sort((a, b) => (a.ratio ?? a.eventsPerSecond) - (b.ratio ?? b.eventsPerSecond));
    const median = runs[Math.floor((runs.length - 1) / 2)];
    return ROUNDS > 1
      ? {
          ...median,
          rounds: runs.map((r) => ({
            eventsPerSecond: r.eventsPerSecond,
            ratio: r.ratio,
            p99: r.p99,
            cpuUsPerEvent: r.cpuUsPerEvent,
            lost: r.lost,
          })),
        }
      : median;
  });
  for (const row of rows)
    if (row.statuses?.[429])
      notes.push(
        `${row.target} answered 429 (rate limited) ${row.statuses[429]} times: its rate limit must be off or high ` +
          `in the bench's relay config (measureRelay in bench/lib/relay.mjs), or its figure is not its throughput`,
      );
  if (ROUNDS > 1)
    for (const row of rows) {
      const perRound = row.rounds.map(
        (r) =>
          `${Math.round(r.eventsPerSecond)} events/s (${r.ratio?.toFixed(2)}×, p99 ${r.p99} ms, ` +
          `${Math.round(r.cpuUsPerEvent ?? 0)} µs CPU/event${r.lost ? `, ${r.lost} missing` : ''})`,
      );
      notes.push(`${row.target}, ${ROUNDS} rounds: ${perRound.join('; ')}`);
    }
  return {
    batch: BATCH,
    connections: CONNECTIONS,
    duration: DURATION,
    rounds: ROUNDS,
    rows,
    notes,
  };
};
