/**
 * `tracklet/relay`: the relay (also exported under its first name, `tracklet/collector`, for the
 * apps that import that). `startRelay()` runs it in-process (the CLI, the demo and the tests use
 * it); `createHandler()` gives the bare web-standard handler for other runtimes.
 */
import { checkAdminExposure, resolveConfig, type RelayConfig } from './config';
import { startWorker, type Worker } from './delivery';
import { createHandler, type RelayHandler } from './handler';
import { createMetrics } from './metrics';
import { openStore } from './open-store';
import { startRetention, type Retention } from './retention';
import { serve } from './server';
import type { Store } from './store';

export { ConfigError, configFileSchema, resolveConfig } from './config';
export type {
  Bucket,
  ConfigFile,
  DestinationConfig,
  Limits,
  RateLimit,
  RelayConfig,
  SiteConfig,
} from './config';
export { backoff, startWorker } from './delivery';
export type { SendRecord, Worker } from './delivery';
export { createHandler, loadScript } from './handler';
export type { ClientInfo, Handler, HandlerOptions, RelayHandler, ScriptInfo } from './handler';
export { serve, toNodeListener } from './server';
export type { ServeOptions, Served } from './server';
export { openSqliteStore } from './sqlite';
export { openPostgresStore } from './postgres';
export type { PostgresStoreOptions } from './postgres';
export { openStore } from './open-store';
export { createMetrics } from './metrics';
export type { Metrics } from './metrics';
export { startRetention } from './retention';
export type { Retention } from './retention';
export type {
  Delivery,
  DestinationCounts,
  EraseRequest,
  Erased,
  PruneKind,
  RejectedEvent,
  Store,
  StoredEvent,
} from './store';
export { DESTINATIONS } from './destinations/index';
export type { Destination, DestinationContext, HttpResult, Outcome } from './destinations/index';

/** Options of `startRelay()`. */
export interface StartRelayOptions {
  /** The config file's content (parsed JSON), validated here; or an already resolved config. */
  config: unknown;
  /** Where `…Env` settings are looked up. Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Default 0: a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /**
   * SQLite file or `postgres://` URL; default the config's `storage`, else `:memory:`. Ignored when
   * `store` is given.
   */
  storePath?: string;
  store?: Store;
  /** Overrides `delivery.pollMs` (tests use short ones). */
  pollMs?: number;
  /** Overrides `delivery.leaseMs`. */
  leaseMs?: number;
  /** Token for /status, /dead-letters and /events/stream (overrides `adminTokenEnv`); none leaves them open. */
  adminToken?: string;
  /** Serve the admin routes without a token on a non-loopback host (overrides `adminOpen`). */
  adminOpen?: boolean;
  /** Receives one line per delivery failure. */
  log?: (line: string) => void;
}

/** A running relay. */
export interface Relay {
  /** `http://host:port`, no trailing slash. */
  url: string;
  handler: RelayHandler;
  store: Store;
  worker: Worker;
  /** Prunes by the config's `retention` ages; `runOnce()` prunes now. */
  retention: Retention;
  config: RelayConfig;
  /** The first-party script's URL and SRI hash, when one is configured. */
  script?: { src: string; integrity: string };
  /** Stops the worker (sends in flight are handed back), the server, then the store. */
  close(): Promise<void>;
}

const isResolved = (config: unknown): config is RelayConfig =>
  !!config &&
  typeof config == 'object' &&
  typeof (config as RelayConfig).pollMs == 'number' &&
  Array.isArray((config as RelayConfig).trustedProxies);

/** Starts the relay: store, delivery worker and HTTP server. Throws a ConfigError on bad configuration. */
export async function startRelay(options: StartRelayOptions): Promise<Relay> {
  const resolved = isResolved(options.config)
    ? options.config
    : resolveConfig(options.config, options.env ?? process.env);
  const config: RelayConfig = {
    ...resolved,
    pollMs: options.pollMs ?? resolved.pollMs,
    leaseMs: options.leaseMs ?? resolved.leaseMs,
    adminToken: options.adminToken ?? resolved.adminToken,
    adminOpen: options.adminOpen ?? resolved.adminOpen,
  };
  const host = options.host ?? config.host ?? '127.0.0.1';
  checkAdminExposure(config, host);
  const store =
    options.store ??
    (await openStore(options.storePath ?? config.storage ?? ':memory:', { log: options.log }));
  const retention = startRetention(
    store,
    { retention: config.retention ?? { ages: {}, everyMs: 600_000 } },
    { log: options.log },
  );
  const metrics = createMetrics(store, {
    retention,
    destinations: Object.values(config.sites).flatMap((site) =>
      site.destinations.map((d) => d.key),
    ),
  });
  const worker = startWorker(store, config, { log: options.log, metrics });
  // The listening host is one of the names admin routes answer to.
  const handler = createHandler({
    config: { ...config, host },
    store,
    worker,
    retention,
    metrics,
    log: options.log,
    queryToken: 'stream',
  });
  let served;
  try {
    served = await serve(handler, {
      port: options.port ?? config.port ?? 0,
      host,
      limits: config.limits,
      log: options.log,
    });
  } catch (error) {
    await worker.stop();
    await retention.stop();
    if (!options.store) await store.close();
    throw error;
  }
  const { script } = handler;
  return {
    url: served.url,
    handler,
    store,
    worker,
    retention,
    config,
    script: script && { src: script.src, integrity: script.integrity },
    async close() {
      await worker.stop();
      await retention.stop();
      await served.close();
      if (!options.store) await store.close();
    },
  };
}
