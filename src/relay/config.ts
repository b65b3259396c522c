/**
 * The relay's configuration: one JSON file (format in docs/relay.md), validated with valibot.
 * Secrets never live in the file: a key ending in `Env` names the environment variable holding it.
 */
import * as v from 'valibot';
import type { PruneKind } from './store';
import { compileTrust } from './enrich';

const url = v.pipe(v.string(), v.url(), v.regex(/^https?:\/\//i, 'must be an http(s) URL'));
const ms = v.pipe(v.number(), v.integer(), v.minValue(0));
const envName = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'),
);

/** A token bucket: `burst` requests at once, refilled at `perSecond`. */
const bucket = v.strictObject({
  perSecond: v.pipe(v.number(), v.minValue(0)),
  burst: v.pipe(v.number(), v.integer(), v.minValue(1)),
});

/** Settings every destination has; each has a default. */
const common = {
  /** Unique within the site; defaults to the type. Names the destination in status and dead letters. */
  name: v.optional(
    v.pipe(v.string(), v.regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - only')),
  ),
  baseUrl: v.optional(url),
  /** Per-request timeout. */
  timeoutMs: v.optional(v.pipe(ms, v.minValue(1))),
  /** Sends before an event is dead-lettered (1 = no retry). */
  attempts: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(100))),
  backoffBaseMs: v.optional(ms),
  backoffMaxMs: v.optional(ms),
  /** Events per request, capped at what the API allows. */
  batchSize: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
};

const destinationSchema = v.variant('type', [
  v.strictObject({
    ...common,
    type: v.literal('databuddy'),
    clientId: v.pipe(v.string(), v.minLength(1)),
    apiKeyEnv: v.optional(envName),
  }),
  v.strictObject({
    ...common,
    type: v.literal('tracify'),
    baseUrl: url,
    customerSiteId: v.pipe(v.string(), v.minLength(1)),
    apiKeyEnv: envName,
    /** The document does not say how the key travels: this header, default `Authorization`… */
    apiKeyHeader: v.optional(
      v.pipe(v.string(), v.regex(/^[A-Za-z0-9-]+$/, 'must be a header name')),
    ),
    /** …with this prefix, default `Bearer ` when the header is Authorization, else none. */
    apiKeyPrefix: v.optional(v.string()),
    /** The shop's origin (`data.origin`); default the origin of each event's URL. */
    origin: v.optional(url),
  }),
  v.strictObject({
    ...common,
    type: v.literal('tracardi'),
    baseUrl: url,
    sourceId: v.optional(v.pipe(v.string(), v.minLength(1))),
    sourceIdEnv: v.optional(envName),
  }),
  v.strictObject({
    ...common,
    type: v.literal('growlytics'),
    apiKeyEnv: envName,
    /** Attribute name → its type, which always wins (Growlytics ignores an attribute whose type changes). */
    attributeTypes: v.optional(
      v.pipe(
        v.record(
          v.pipe(v.string(), v.minLength(1), v.maxLength(256)),
          v.picklist(['string', 'number', 'boolean']),
        ),
        v.check((types) => Object.keys(types).length <= 500, 'at most 500 attribute types'),
      ),
    ),
  }),
  v.strictObject({
    ...common,
    type: v.literal('datacue'),
    apiKeyEnv: envName,
    /** The text says `user_agent`, the examples `user-agent`. */
    userAgentField: v.optional(v.picklist(['user_agent', 'user-agent'])),
  }),
  v.strictObject({
    ...common,
    type: v.literal('webhook'),
    /** The URL, or `urlEnv`: the environment variable holding it (webhook URLs often carry a secret). */
    url: v.optional(url),
    urlEnv: v.optional(envName),
    /** Extra request headers: header name → environment variable holding its value. */
    headersEnv: v.optional(v.record(v.string(), envName)),
  }),
]);

const siteSchema = v.strictObject({
  /** Origins allowed to send (`https://shop.example`); `*` allows any. */
  origins: v.pipe(v.array(v.union([v.literal('*'), url])), v.minLength(1)),
  /** Do not forward events whose user agent looks like a bot (they are still stored). */
  dropBots: v.optional(v.boolean()),
  destinations: v.optional(v.array(destinationSchema)),
});

const days = v.pipe(v.number(), v.minValue(0.000001), v.maxValue(36500));

/** The JSON file. */
export const configFileSchema = v.strictObject({
  port: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(65535))),
  host: v.optional(v.string()),
  storage: v.optional(v.string()),
  /** Largest accepted request body, in bytes. */
  maxBodyBytes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1024))),
  /** Peers whose X-Forwarded-For / X-Real-IP is believed: IPs, CIDR ranges (IPv4 or IPv6) or `loopback`. */
  trustedProxies: v.optional(v.array(v.string())),
  /** Environment variable holding the token for /status, /dead-letters and /events/stream. */
  adminTokenEnv: v.optional(envName),
  /** Leave the admin routes open without a token on a non-loopback host (refused at start otherwise). */
  adminOpen: v.optional(v.boolean()),
  /** `Host` names the admin routes answer to (DNS rebinding); loopback names and `host` always; `*` any. */
  allowedHosts: v.optional(
    v.array(
      v.pipe(
        v.string(),
        v.regex(/^(\*|[A-Za-z0-9.:_\[\]-]{1,253})$/, 'must be a host name, an IP or *'),
      ),
    ),
  ),
  /** Timeouts and caps of the HTTP server and the event stream. */
  limits: v.optional(
    v.strictObject({
      headersTimeoutMs: v.optional(v.pipe(ms, v.minValue(1))),
      requestTimeoutMs: v.optional(v.pipe(ms, v.minValue(1))),
      keepAliveTimeoutMs: v.optional(v.pipe(ms, v.minValue(1))),
      maxConnections: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
      maxHeaderBytes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1024))),
      adminBodyBytes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1024))),
      streamSubscribers: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
      streamBufferBytes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1024))),
      replayBytes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
    }),
  ),
  /** Ingest rate limits: token buckets per client IP and per site; `perSecond: 0` turns one off. */
  rateLimit: v.optional(
    v.strictObject({
      perIp: v.optional(bucket),
      perSite: v.optional(bucket),
      /**
       * Requests from loopback (a local process, or a proxy on this host not listed in
       * trustedProxies) are not limited.
       */
      exemptLoopback: v.optional(v.boolean()),
      /** Buckets kept at most; past it, full and least recently used ones are forgotten. */
      maxTracked: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
    }),
  ),
  /** Serve the tracker script first-party. */
  script: v.optional(
    v.strictObject({ path: v.pipe(v.string(), v.startsWith('/')), file: v.string() }),
  ),
  /** What is stored of the client IP: `full`, `truncated` (IPv4 /24, IPv6 /48; the default) or `none`. */
  storeIp: v.optional(v.picklist(['full', 'truncated', 'none'])),
  /** Days after which each kind of row is deleted (unset: kept). Events still owed to a destination are kept. */
  retention: v.optional(
    v.strictObject({
      events: v.optional(days),
      delivered: v.optional(days),
      deadLetters: v.optional(days),
      visitorState: v.optional(days),
      rejected: v.optional(days),
      /** Minutes between pruning runs (default 10). */
      everyMinutes: v.optional(v.pipe(v.number(), v.minValue(0.01), v.maxValue(1440))),
    }),
  ),
  /** Worker settings and destination defaults. */
  delivery: v.optional(
    v.strictObject({
      pollMs: v.optional(v.pipe(ms, v.minValue(1))),
      leaseMs: v.optional(v.pipe(ms, v.minValue(1))),
      timeoutMs: v.optional(v.pipe(ms, v.minValue(1))),
      attempts: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(100))),
      backoffBaseMs: v.optional(ms),
      backoffMaxMs: v.optional(ms),
    }),
  ),
  sites: v.record(v.pipe(v.string(), v.minLength(1)), siteSchema),
});

/** The config file as parsed (before defaults and secrets). */
export type ConfigFile = v.InferOutput<typeof configFileSchema>;
type DestinationFile = v.InferOutput<typeof destinationSchema>;

/** A destination with every default filled in and its secrets read from the environment. */
export type DestinationConfig = DestinationFile & {
  name: string;
  /** `site/name`: the queue key. */
  key: string;
  site: string;
  timeoutMs: number;
  attempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Values of the `…Env` settings, by setting name without `Env` (`apiKey`, `sourceId`, headers…). */
  secrets: Record<string, string>;
};

/** One site: who may send for it and where its events go. */
export interface SiteConfig {
  origins: string[];
  dropBots: boolean;
  destinations: DestinationConfig[];
}

/** Timeouts and caps of the HTTP server and the event stream. */
export interface Limits {
  /** Time to receive a request's headers. */
  headersTimeoutMs: number;
  /** Time to receive a whole request. */
  requestTimeoutMs: number;
  /** Idle time before a kept-alive connection is closed. */
  keepAliveTimeoutMs: number;
  /** Open connections at most; more are closed at once. */
  maxConnections: number;
  /** Request line and headers together; more gets 431. */
  maxHeaderBytes: number;
  /** Largest admin request body (requeue). */
  adminBodyBytes: number;
  /** Event stream subscribers at once; more get 503. */
  streamSubscribers: number;
  /** Bytes a subscriber may fall behind before it is dropped. */
  streamBufferBytes: number;
  /** Bytes of stored events `replay=` sends at most. */
  replayBytes: number;
}

/** A token bucket. */
export interface Bucket {
  perSecond: number;
  burst: number;
}

/** Ingest rate limits. */
export interface RateLimit {
  perIp: Bucket;
  perSite: Bucket;
  exemptLoopback: boolean;
  maxTracked: number;
}

/** The configuration the relay runs with. */
export interface RelayConfig {
  sites: Record<string, SiteConfig>;
  trustedProxies: string[];
  /** What is stored of the client IP (destinations that need the full one get it at send time). */
  storeIp: 'full' | 'truncated' | 'none';
  /** Ages in ms by kind of row (only configured kinds are pruned) and the interval between runs. */
  retention: { ages: Partial<Record<PruneKind, number>>; everyMs: number };
  maxBodyBytes: number;
  adminToken?: string;
  /** Admin routes may be open (no token) on a non-loopback host. */
  adminOpen: boolean;
  /** Extra `Host` names admin routes answer to (loopback names always). */
  allowedHosts: string[];
  limits: Limits;
  rateLimit: RateLimit;
  script?: { path: string; file: string };
  pollMs: number;
  leaseMs: number;
  port?: number;
  host?: string;
  storage?: string;
}

/** Bad configuration: the message names the key. */
export class ConfigError extends Error {}

/** Defaults of the relay-wide and per-destination settings. */
export const DEFAULTS = {
  maxBodyBytes: 131072,
  pollMs: 1000,
  leaseMs: 60_000,
  timeoutMs: 10_000,
  attempts: 8,
  backoffBaseMs: 1000,
  backoffMaxMs: 300_000,
};

/**
 * Defaults of `limits`: short enough that slow clients cannot hold the server, long enough for a
 * phone on a bad network.
 */
export const DEFAULT_LIMITS: Limits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  // Longer than clients' own idle timeouts (undici: 4 s), so a client never reuses a socket the server is closing.
  keepAliveTimeoutMs: 65_000,
  maxConnections: 10_000,
  maxHeaderBytes: 16_384,
  adminBodyBytes: 65_536,
  streamSubscribers: 32,
  streamBufferBytes: 4 * 1024 * 1024,
  replayBytes: 2 * 1024 * 1024,
};

/**
 * Defaults of `rateLimit`. A browser sends a body every few seconds at most; 200 at once and 20 a
 * second leave room for an office or a mobile carrier behind one address.
 */
export const DEFAULT_RATE_LIMIT: RateLimit = {
  perIp: { perSecond: 20, burst: 200 },
  perSite: { perSecond: 2000, burst: 20_000 },
  exemptLoopback: true,
  maxTracked: 100_000,
};

const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|::1|\[::1\]|::ffff:127(\.\d{1,3}){3})$/i;

/** True for a listening address only this machine can reach. */
export const isLoopbackHost = (host: string): boolean => LOOPBACK_HOST.test(host);

/**
 * Refuses to serve the admin routes without a token on an address others can reach, unless the
 * config says so (`adminOpen`). Throws a ConfigError naming what to set.
 */
export const checkAdminExposure = (
  config: Pick<RelayConfig, 'adminToken' | 'adminOpen'>,
  host: string,
): void => {
  if (config.adminToken || config.adminOpen || isLoopbackHost(host)) return;
  throw new ConfigError(
    `adminTokenEnv: the relay would listen on ${host} with /status, /dead-letters and /events/stream open to anyone; ` +
      'set adminTokenEnv (a token in that variable), or "adminOpen": true (--admin-open) to serve them without one',
  );
};

/**
 * Validates a parsed config file and resolves it against the environment. Throws a ConfigError
 * whose message names the first bad key (`sites.shop.destinations.0.baseUrl: Invalid URL`).
 */
export const resolveConfig = (
  input: unknown,
  env: Record<string, string | undefined> = process.env,
): RelayConfig => {
  const result = v.safeParse(configFileSchema, input, { abortEarly: true });
  if (!result.success) {
    const issue = result.issues[0];
    throw new ConfigError(`${v.getDotPath(issue) ?? '(config)'}: ${issue.message}`);
  }
  const file = result.output;
  const delivery = { ...DEFAULTS, ...file.delivery };
  const readEnv = (key: string, name: string): string => {
    const value = env[name];
    if (!value) throw new ConfigError(`${key}: environment variable ${name} is not set`);
    return value;
  };
  const sites: Record<string, SiteConfig> = {};
  for (const [site, siteFile] of Object.entries(file.sites)) {
    const seen = new Set<string>();
    const destinations = (siteFile.destinations ?? []).map((d, i): DestinationConfig => {
      const at = `sites.${site}.destinations.${i}`;
      const name = d.name ?? d.type;
      if (seen.has(name))
        throw new ConfigError(
          `${at}.name: "${name}" is used twice in this site; give each a unique name`,
        );
      seen.add(name);
      const secrets: Record<string, string> = {};
      for (const [key, value] of Object.entries(d)) {
        if (key.endsWith('Env') && typeof value == 'string')
          secrets[key.slice(0, -3)] = readEnv(`${at}.${key}`, value);
      }
      if (d.type == 'webhook') {
        for (const [header, name] of Object.entries(d.headersEnv ?? {}))
          secrets['header:' + header] = readEnv(`${at}.headersEnv.${header}`, name);
      }
      if (d.type == 'tracardi' && !d.sourceId && !secrets.sourceId)
        throw new ConfigError(`${at}.sourceId: required (or sourceIdEnv)`);
      if (d.type == 'webhook') {
        if (!d.url == !d.urlEnv) throw new ConfigError(`${at}.url: give either url or urlEnv`);
        // The value is a secret: the error names the variable, never what it holds.
        if (d.urlEnv && !v.is(url, secrets.url))
          throw new ConfigError(
            `${at}.urlEnv: environment variable ${d.urlEnv} does not hold an http(s) URL`,
          );
      }
      for (const [key, value] of Object.entries(secrets))
        if (/[\r\n\0]/.test(value))
          throw new ConfigError(
            `${at}: the value of ` +
              `${key.startsWith('header:') ? `headersEnv.${key.slice(7)}` : key + 'Env'} ` +
              `contains a line break or NUL`,
          );
      return {
        ...d,
        name,
        key: `${site}/${name}`,
        site,
        timeoutMs: d.timeoutMs ?? delivery.timeoutMs,
        attempts: d.attempts ?? delivery.attempts,
        backoffBaseMs: d.backoffBaseMs ?? delivery.backoffBaseMs,
        backoffMaxMs: d.backoffMaxMs ?? delivery.backoffMaxMs,
        secrets,
      };
    });
    sites[site] = {
      origins: siteFile.origins.map((o) => (o == '*' ? o : new URL(o).origin)),
      dropBots: siteFile.dropBots ?? false,
      destinations,
    };
  }
  const trustedProxies = file.trustedProxies ?? [];
  try {
    compileTrust(trustedProxies);
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const limits = { ...DEFAULT_LIMITS, ...file.limits };
  if (limits.headersTimeoutMs > limits.requestTimeoutMs)
    throw new ConfigError(
      `limits.headersTimeoutMs: ${limits.headersTimeoutMs} is longer ` +
        `than limits.requestTimeoutMs (${limits.requestTimeoutMs})`,
    );
  const adminToken = file.adminTokenEnv ? readEnv('adminTokenEnv', file.adminTokenEnv) : undefined;
  const adminOpen = file.adminOpen ?? false;
  return {
    sites,
    trustedProxies,
    storeIp: file.storeIp ?? 'truncated',
    retention: {
      ages: Object.fromEntries(
        Object.entries(file.retention ?? {})
          .filter(([key]) => key != 'everyMinutes')
          .map(([key, value]) => [key, Math.round((value as number) * 86_400_000)]),
      ),
      everyMs: Math.round((file.retention?.everyMinutes ?? 10) * 60_000),
    },
    maxBodyBytes: file.maxBodyBytes ?? DEFAULTS.maxBodyBytes,
    adminToken,
    adminOpen,
    allowedHosts: file.allowedHosts ?? [],
    limits,
    rateLimit: {
      ...DEFAULT_RATE_LIMIT,
      ...file.rateLimit,
      perIp: file.rateLimit?.perIp ?? DEFAULT_RATE_LIMIT.perIp,
      perSite: file.rateLimit?.perSite ?? DEFAULT_RATE_LIMIT.perSite,
    },
    script: file.script,
    pollMs: delivery.pollMs,
    leaseMs: delivery.leaseMs,
    port: file.port,
    host: file.host,
    storage: file.storage,
  };
};
