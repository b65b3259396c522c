// Part 4: what one relay process ingests on loopback, under a bounded load from this process.
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

export const BATCH_SIZES = [1, 10, 50, 100];
const DURATION = 3; // seconds per batch size
const CONNECTIONS = 10;

/** A realistic custom event (the fields Tracklet sends), unique by id so the relay's dedupe never short-cuts it. */
const event = (n, now) => ({
  type: 'event',
  name: 'add_to_cart',
  properties: { sku: 'SKU-' + (n % 997), price: 19.9, currency: 'EUR' },
  id: `bench-${process.pid}-${n}`,
  timestamp: now,
  anonymousId: 'anon-' + (n % 5000),
  sessionId: 'sess-' + (n % 1000),
  url: 'https://shop.example/products/42?ref=home',
  path: '/products/42',
});

/** Starts the relay in a child process; resolves to `{ url, stop }`, or `{ error }` when there is no relay. */
const startChild = async (storePath) => {
  const child = spawn(process.execPath, [resolve(import.meta.dirname, 'relay-server.mjs'), storePath], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const line = await new Promise((done) => {
    lines.once('line', done);
    child.once('exit', () => done(JSON.stringify({ error: 'the relay process exited' })));
    setTimeout(() => done(JSON.stringify({ error: 'the relay did not start within 20 s' })), 20_000).unref();
  });
  const info = JSON.parse(line);
  let stored;
  lines.on('line', (text) => (stored = JSON.parse(text).stored));
  /** Stops the relay; resolves to the number of events it stored. */
  const stop = () =>
    new Promise((done) => {
      if (child.exitCode != null) return done(stored);
      child.once('exit', () => done(stored));
      child.stdin.end();
      setTimeout(() => child.kill(), 5000).unref();
    });
  if (info.error) await stop();
  return { ...info, stop };
};

/** Events built so far: ids stay unique across batch sizes, or the relay's dedupe would short-cut them. */
let sent = 0;

/** One bounded autocannon run: DURATION seconds, CONNECTIONS connections, a fresh batch per request. */
const load = (url, batchSize) =>
  autocannon({
    url: url + '/collect',
    method: 'POST',
    connections: CONNECTIONS,
    duration: DURATION,
    headers: { 'content-type': 'text/plain', origin: 'https://shop.example', 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) bench' },
    requests: [
      {
        setupRequest: (request) => {
          const now = Date.now();
          const events = Array.from({ length: batchSize }, () => event(sent++, now));
          return { ...request, body: JSON.stringify({ v: 1, site: 'bench', sentAt: now, events }) };
        },
      },
    ],
  });

/** Runs every batch size against one relay; returns rows, or `{ unavailable }` when the relay is not there. */
export const measureRelay = async ({ log = console.log } = {}) => {
  const dir = mkdtempSync(join(tmpdir(), 'tracklet-bench-'));
  const relay = await startChild(join(dir, 'relay.sqlite'));
  if (relay.error) {
    rmSync(dir, { recursive: true, force: true });
    return { unavailable: relay.error };
  }
  try {
    const rows = [];
    for (const batchSize of BATCH_SIZES) {
      const result = await load(relay.url, batchSize);
      const ok = result['2xx'];
      rows.push({
        batchSize,
        events: ok * batchSize,
        requestsPerSecond: ok / result.duration,
        eventsPerSecond: (ok * batchSize) / result.duration,
        p50: result.latency.p50,
        p90: result.latency.p90,
        p99: result.latency.p99,
        max: result.latency.max,
        non2xx: result.non2xx,
        errors: result.errors + result.timeouts,
      });
      log(`bench: relay batch ${batchSize}: ${Math.round(rows.at(-1).eventsPerSecond)} events/s`);
    }
    const stored = await relay.stop();
    return { connections: CONNECTIONS, duration: DURATION, rows, accepted: rows.reduce((sum, r) => sum + r.events, 0), stored };
  } finally {
    await relay.stop();
    rmSync(dir, { recursive: true, force: true });
  }
};
