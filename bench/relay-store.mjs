#!/usr/bin/env node
// The relay's SQLite store alone, driven as the relay drives it under the bench load: 4 bodies of
// 20 events per event-loop turn, each event queued for two destinations leased at ingest, the
// sent ones settled every other turn. Prints the store's CPU µs per event: on a machine shared
// with other work this moves far less than a load test's events/s. Needs `node build.mjs` first.
//   node bench/relay-store.mjs [another checkout's root, to compare its build]   (writes nothing kept)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { storedBenchEvent } from './lib/bench-event.mjs';

const TURNS = 1500;
const BODIES = 4;
const BATCH = 20;
const roots = [resolve(import.meta.dirname, '..'), ...process.argv.slice(2).map((p) => resolve(p))];

/** CPU µs per event of one store over TURNS turns. */
const measure = async (root, dir) => {
  const { openSqliteStore } = await import(pathToFileURL(join(root, 'dist/relay/index.js')).href);
  const store = openSqliteStore(join(dir, `store-${Math.random().toString(36).slice(2)}.sqlite`));
  const route = () => ['shop/a', 'shop/b'];
  const before = process.cpuUsage();
  let held = [];
  for (let turn = 0; turn < TURNS; turn++) {
    const now = Date.now();
    const bodies = Array.from({ length: BODIES }, () =>
      store.insertEvents(
        Array.from({ length: BATCH }, () => storedBenchEvent(now)),
        route,
        { leaseUntil: now + 30_000 },
      ),
    );
    for (const { leased = [] } of await Promise.all(bodies)) held.push(...leased.map((d) => d.id));
    if (turn % 2) await store.markDelivered(held.splice(0), now);
  }
  const cpu = process.cpuUsage(before);
  await store.close();
  return (cpu.user + cpu.system) / (TURNS * BODIES * BATCH);
};

const dir = mkdtempSync(join(tmpdir(), 'tracklet-bench-store-'));
try {
  // Alternated, twice each, so that a change in the machine's load falls on every build alike.
  for (let round = 0; round < 2; round++)
    for (const root of roots)
      console.log(
        `${root}: ${(await measure(root, dir)).toFixed(1)} µs CPU per event (store only)`,
      );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
