/**
 * The relay's Prometheus metrics (`GET /metrics`, admin), with prom-client: requests by route and
 * status, events by site and outcome, the queue per destination (depth, oldest due age, dead
 * letters), deliveries by outcome and their latency, store errors, rows pruned by retention.
 * Queue figures are read from the store when scraped; counters move with traffic.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Retention } from './retention';
import type { Store } from './store';

/** The routes requests are counted by (anything else is `other`, so a scan cannot grow the label set). */
const ROUTES = new Set([
  '/collect',
  '/',
  '/health',
  '/ready',
  '/status',
  '/metrics',
  '/dead-letters',
  '/dead-letters/requeue',
  '/events/stream',
  '/erase',
]);

/** What the handler and the worker report. */
export interface Metrics {
  registry: Registry;
  request(path: string, status: number): void;
  events(
    site: string,
    outcome: 'accepted' | 'duplicate' | 'rejected' | 'suppressed',
    n: number,
  ): void;
  delivery(
    destination: string,
    outcome: 'delivered' | 'retry' | 'dead' | 'held',
    events: number,
  ): void;
  /** One request to a destination took `seconds`. */
  latency(destination: string, seconds: number): void;
  storeError(): void;
  /** Reads the queue from the store and retention's counts; called on each scrape. */
  refresh(): Promise<void>;
  /** The text a scrape receives. */
  text(): Promise<string>;
}

/**
 * Creates the relay's metrics on a registry of their own (with the process's default metrics);
 * `destinations` are the queue keys to report.
 */
export function createMetrics(
  store: Store,
  options: { destinations?: string[]; retention?: Retention; now?: () => number } = {},
): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tracklet_relay_' });
  const now = options.now ?? Date.now;
  const registers = [registry];
  const counter = (name: string, help: string, labelNames: string[] = []) =>
    new Counter({ name, help, labelNames, registers });
  const gauge = (name: string, help: string, label: string) =>
    new Gauge({ name, help, labelNames: [label], registers });
  const requests = counter('tracklet_http_requests_total', 'HTTP requests by route and status', [
    'route',
    'status',
  ]);
  const events = counter(
    'tracklet_events_total',
    'Events received, by site and outcome (accepted, duplicate, rejected, suppressed)',
    ['site', 'outcome'],
  );
  const deliveries = counter(
    'tracklet_deliveries_total',
    'Events handed to destinations, by outcome (delivered, retry, dead, held)',
    ['destination', 'outcome'],
  );
  const latency = new Histogram({
    name: 'tracklet_delivery_duration_seconds',
    help: 'Time of one request to a destination',
    labelNames: ['destination'],
    buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const storeErrors = counter(
    'tracklet_store_errors_total',
    'Requests answered 503 because the store was out of reach',
  );
  const depth = gauge(
    'tracklet_queue_depth',
    'Deliveries queued (due or waiting for a retry), by destination',
    'destination',
  );
  const oldest = gauge(
    'tracklet_queue_oldest_due_seconds',
    'How long the oldest due delivery has waited, by destination (0: none due)',
    'destination',
  );
  const dead = gauge('tracklet_dead_letters', 'Dead letters, by destination', 'destination');
  const pruned = gauge(
    'tracklet_pruned_rows',
    'Rows deleted by retention since start, by kind',
    'kind',
  );

  const refresh = async () => {
    const counts = await store.status();
    const due = new Map(
      (await (store.oldestDue?.() ?? Promise.resolve([]))).map((row) => [row.destination, row.at]),
    );
    const at = now();
    // Every configured destination has a value, 0 until it has a queue.
    const known = new Set(options.destinations ?? []);
    for (const destination of known)
      if (!counts.some((c) => c.destination == destination))
        counts.push({ destination, queued: 0, retrying: 0, delivered: 0, dead: 0 });
    for (const c of counts) {
      depth.set({ destination: c.destination }, c.queued);
      dead.set({ destination: c.destination }, c.dead);
      const first = due.get(c.destination);
      oldest.set(
        { destination: c.destination },
        first != undefined && first <= at ? (at - first) / 1000 : 0,
      );
    }
    for (const [kind, n] of Object.entries(options.retention?.pruned() ?? {}))
      pruned.set({ kind }, n ?? 0);
  };

  return {
    registry,
    request: (path, status) =>
      requests.inc({ route: ROUTES.has(path) ? path : 'other', status: String(status) }),
    events: (site, outcome, n) => void (n && events.inc({ site, outcome }, n)),
    delivery: (destination, outcome, n) => void (n && deliveries.inc({ destination, outcome }, n)),
    latency: (destination, seconds) => latency.observe({ destination }, seconds),
    storeError: () => storeErrors.inc(),
    refresh,
    async text() {
      await refresh();
      return registry.metrics();
    },
  };
}
