#!/usr/bin/env node
// The relay's SQLite store driven as under the bench load, timed turn by turn: each turn stores 10
// bodies of 20 events queued for two destinations (leased at ingest, as the hand-off does) and
// settles 200 sent ones, in one group commit. Prints the wall time per turn (p50, p90, p99, max),
// the turns over 3× the median, and how the event-loop thread spent the run (on a core, waiting for
// one, blocked: e.g. in fsync). Needs `node build.mjs` first; writes nothing kept.
//   node bench/relay-turns.mjs [turns, default 450]
// `strace -f -e trace=fsync,fdatasync -T node bench/relay-turns.mjs` shows which thread syncs.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { storedBenchEvent } from './lib/bench-event.mjs';

const TURNS = Math.min(10_000, Number(process.argv[2]) || 450);
const root = resolve(import.meta.dirname, '..');
const { openSqliteStore } = await import(pathToFileURL(join(root, 'dist/relay/index.js')).href);

/** The event-loop thread's CPU time and run-queue wait so far, in ms (Linux schedstat; zeros elsewhere). */
const schedstat = () => {
  try {
    const [cpu, wait] = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8')
      .split(' ')
      .map(Number);
    return { cpu: cpu / 1e6, wait: wait / 1e6 };
  } catch {
    return { cpu: 0, wait: 0 };
  }
};

const dir = mkdtempSync(join(tmpdir(), 'tracklet-bench-turns-'));
try {
  const store = openSqliteStore(join(dir, 'relay.sqlite'));
  const route = () => ['shop/a', 'shop/b'];
  const times = [];
  let held = [];
  const before = schedstat();
  const started = performance.now();
  for (let turn = 0; turn < TURNS; turn++) {
    const now = Date.now();
    const t0 = performance.now();
    const bodies = Array.from({ length: 10 }, () =>
      store.insertEvents(
        Array.from({ length: 20 }, () => storedBenchEvent(now)),
        route,
        { leaseUntil: now + 30_000 },
      ),
    );
    const settled = held.length >= 200 ? store.markDelivered(held.splice(0, 200), now) : null;
    for (const { leased = [] } of await Promise.all(bodies)) held.push(...leased.map((d) => d.id));
    await settled;
    times.push(performance.now() - t0);
  }
  const wall = performance.now() - started;
  const after = schedstat();
  await store.close();
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q) => sorted[Math.floor(q * (sorted.length - 1))].toFixed(1);
  console.log(
    `${TURNS} turns, ms per turn: p50 ${at(0.5)}, p90 ${at(0.9)}, p99 ${at(0.99)}, max ${at(1)}`,
  );
  const slow = times
    .map((ms, turn) => [turn, ms])
    .filter(([, ms]) => ms > 3 * sorted[sorted.length >> 1]);
  console.log(
    `turns over 3× the median: ${slow.map(([t, ms]) => `#${t} ${ms.toFixed(0)}`).join(', ')}`,
  );
  const cpu = after.cpu - before.cpu;
  const wait = after.wait - before.wait;
  console.log(
    `event-loop thread: ${wall.toFixed(0)} ms, on a core ${cpu.toFixed(0)}, waiting for one ` +
      `${wait.toFixed(0)}, blocked ${(wall - cpu - wait).toFixed(0)}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
