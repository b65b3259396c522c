// Preloaded into the relay process by the bench (`node --require loop-probe.cjs …`) when
// BENCH_RELAY_LOOP=1: every 500 ms it appends one JSON line to TRACKLET_LOOP_PROBE_FILE with the
// event loop's delay in that window (how late a 1 ms timer ran: the longest synchronous turns and
// the wait for a core), the loop's utilisation, and the garbage collector's pauses. The bench keeps
// the windows of the load. It changes nothing in the relay.
'use strict';
const { appendFileSync } = require('node:fs');
const { monitorEventLoopDelay, performance, PerformanceObserver } = require('node:perf_hooks');

const file = process.env.TRACKLET_LOOP_PROBE_FILE;
if (file) {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const KINDS = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weak', 16: 'minor' };
  let gc = { count: 0, ms: 0, maxMs: 0, maxKind: '' };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gc.count++;
      gc.ms += entry.duration;
      if (entry.duration > gc.maxMs) {
        gc.maxMs = entry.duration;
        gc.maxKind = KINDS[entry.detail?.kind] ?? String(entry.detail?.kind);
      }
    }
  }).observe({ entryTypes: ['gc'] });
  let elu = performance.eventLoopUtilization();
  const ms = (ns) => Math.round(ns / 1e4) / 100;
  setInterval(() => {
    const now = performance.eventLoopUtilization();
    const window = {
      at: Date.now(),
      elu: Math.round(performance.eventLoopUtilization(now, elu).utilization * 1000) / 1000,
      p50: ms(delay.percentile(50)),
      p99: ms(delay.percentile(99)),
      max: ms(delay.max),
      gcCount: gc.count,
      gcMs: Math.round(gc.ms * 10) / 10,
      gcMaxMs: Math.round(gc.maxMs * 10) / 10,
      gcMaxKind: gc.maxKind,
    };
    elu = now;
    delay.reset();
    gc = { count: 0, ms: 0, maxMs: 0, maxKind: '' };
    try {
      appendFileSync(file, JSON.stringify(window) + '\n');
    } catch {
      // The bench's directory is gone: nothing to report to.
    }
  }, 500).unref();
}
