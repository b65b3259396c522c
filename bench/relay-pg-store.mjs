#!/usr/bin/env node
// The relay's PostgreSQL store alone, driven as the relay drives it under the bench load: turns of
// 10 bodies of 20 events, each event queued for two destinations leased at ingest, the previous
// turn's deliveries settled in two batches per destination during the next turn's inserts. Prints,
// per build and repetition, the store's own CPU µs per event (this process), PostgreSQL's CPU µs
// per event (the postmaster and its processes, from /proc), WAL bytes per event and the deliveries
// table's counters (updates, HOT updates, dead rows), each in a new database of one throwaway
// PostgreSQL 15 (fsync on). Builds alternate, so a change of load on a shared machine hits both.
//   node build.mjs && node bench/relay-pg-store.mjs [another checkout's root ...]   (writes nothing kept)
//   BENCH_PG_TURNS=200 BENCH_PG_REPS=3 BENCH_PG_STATEMENTS=1 (pg_stat_statements: time, WAL per statement)
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { storedBenchEvent } from './lib/bench-event.mjs';
import { PG_BIN, serverCpuSeconds, startPostgres } from './lib/postgres.mjs';

const TURNS = Number(process.env.BENCH_PG_TURNS) || 200;
const REPS = Number(process.env.BENCH_PG_REPS) || 3;
const STATEMENTS = process.env.BENCH_PG_STATEMENTS == '1';
const BODIES = 10;
const BATCH = 20;
const roots = [resolve(import.meta.dirname, '..'), ...process.argv.slice(2).map((p) => resolve(p))];

/** One store over TURNS turns (after 30 to warm up), in a new database. */
const measure = async (openPostgresStore, admin, name) => {
  await admin.query(`CREATE DATABASE ${name}`);
  const url = server.url.replace(/\/postgres$/, `/${name}`);
  const store = await openPostgresStore(url);
  const route = () => ['shop/a', 'shop/b'];
  let sent = [];
  const turn = async () => {
    const now = Date.now();
    const bodies = Array.from({ length: BODIES }, () =>
      store.insertEvents(
        Array.from({ length: BATCH }, () => storedBenchEvent(now)),
        route,
        { leaseUntil: now + 60_000 },
      ),
    );
    const settles = ['shop/a', 'shop/b'].flatMap((destination) => {
      const ids = sent.filter((d) => d.destination == destination).map((d) => d.id);
      const half = ids.length >> 1;
      return [
        store.markDelivered(ids.slice(0, half), now),
        store.markDelivered(ids.slice(half), now),
      ];
    });
    const results = await Promise.all(bodies);
    await Promise.all(settles);
    sent = results.flatMap((r) => r.leased ?? []);
  };
  for (let i = 0; i < 30; i++) await turn();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  if (STATEMENTS) {
    await client.query('CREATE EXTENSION pg_stat_statements');
    await client.query('SELECT pg_stat_statements_reset()');
  }
  const [{ lsn }] = (await client.query('SELECT pg_current_wal_lsn() AS lsn')).rows;
  const cpu = process.cpuUsage();
  const serverBefore = serverCpuSeconds(server.data);
  for (let i = 0; i < TURNS; i++) await turn();
  const events = TURNS * BODIES * BATCH;
  const own = process.cpuUsage(cpu);
  const figures = {
    store: (own.user + own.system) / events,
    server: ((serverCpuSeconds(server.data) - serverBefore) * 1e6) / events,
    wal:
      Number(
        (await client.query('SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1) AS d', [lsn])).rows[0]
          .d,
      ) / events,
    deliveries: (
      await client.query(
        'SELECT n_tup_upd AS updated, n_tup_hot_upd AS hot, n_dead_tup AS dead ' +
          "FROM pg_stat_user_tables WHERE relname = 'deliveries'",
      )
    ).rows[0],
    statements: STATEMENTS
      ? (
          await client.query(
            `SELECT calls, total_exec_time AS ms, wal_bytes, left(regexp_replace(query, '\\s+', ' ', 'g'), 70) AS q
             FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
             ORDER BY total_exec_time DESC LIMIT 3`,
          )
        ).rows
      : [],
  };
  await client.end();
  await store.close();
  await admin.query(`DROP DATABASE ${name}`);
  return figures;
};

const server = await startPostgres(
  STATEMENTS ? '-c shared_preload_libraries=pg_stat_statements' : '',
);
if (!server) throw new Error(`relay-pg-store: no PostgreSQL 15 binaries in ${PG_BIN}`);
const admin = new pg.Client({ connectionString: server.url });
try {
  await admin.connect();
  const stores = [];
  for (const at of roots)
    stores.push(
      (await import(pathToFileURL(join(at, 'dist/relay/index.js')).href)).openPostgresStore,
    );
  let databases = 0;
  for (let rep = 1; rep <= REPS; rep++)
    for (const [i, open] of stores.entries()) {
      const f = await measure(open, admin, `store_${++databases}`);
      console.log(
        `${roots[i]} (${rep}/${REPS}): store ${f.store.toFixed(1)} µs/event, PostgreSQL ` +
          `${f.server.toFixed(1)} µs/event, WAL ${Math.round(f.wal)} B/event; deliveries ` +
          `${f.deliveries.updated} updates (${f.deliveries.hot} HOT), ${f.deliveries.dead} dead rows`,
      );
      for (const s of f.statements)
        console.log(
          `    ${((s.ms * 1000) / (TURNS * BODIES * BATCH)).toFixed(1)} µs, ` +
            `${Math.round(s.wal_bytes / (TURNS * BODIES * BATCH))} B WAL / event, ${s.calls} calls: ${s.q}`,
        );
    }
} finally {
  await admin.end().catch(() => {});
  server.destroy();
}
