/**
 * The relay's configuration: one JSON file (format in the README, "Collector and destinations"), validated with valibot.
 * Secrets never live in the file: a key ending in `Env` names the environment variable holding it.
 */
import * as v from 'valibot';
import type { PruneKind } from './store';

const url = v.pipe(v.string(), v.url(), v.regex(/^https?:\/\//i, 'must be an http(s) URL'));
const ms = v.pipe(v.number(), v.integer(), v.minValue(0));
const envName = v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'));

/** Settings every destination has; each has a default. */
const common = {
  /** Unique within the site; defaults to the type. Names the destination in status and dead letters. */
  name: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - only'))),
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
  v.strictObject({ ...common, type: v.literal('databuddy'), clientId: v.pipe(v.string(), v.minLength(1)), apiKeyEnv: v.optional(envName) }),
  v.strictObject({
    ...common,
    type: v.literal('tracify'),
    baseUrl: url,
    customerSiteId: v.pipe(v.string(), v.minLength(1)),
    apiKeyEnv: envName,
    /** The document does not say how the key travels: this header, default `Authorization`… */
    apiKeyHeader: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9-]+$/, 'must be a header name'))),
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
        v.record(v.pipe(v.string(), v.minLength(1), v.maxLength(256)), v.picklist(['string', 'number', 'boolean'])),
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
  /** Peers whose X-Forwarded-For / X-Real-IP is believed: IPs or IPv4 CIDRs (`10.0.0.0/8`). */
  trustedProxies: v.optional(v.array(v.string())),
  /** Environment variable holding the token for /status and /dead-letters. */
  adminTokenEnv: v.optional(envName),
  /** Serve the tracker script first-party. */
  script: v.optional(v.strictObject({ path: v.pipe(v.string(), v.startsWith('/')), file: v.string() })),
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

/** The configuration the relay runs with. */
export interface RelayConfig {
  sites: Record<string, SiteConfig>;
  trustedProxies: string[];
  /** Ages in ms by kind of row (only configured kinds are pruned) and the interval between runs. */
  retention: { ages: Partial<Record<PruneKind, number>>; everyMs: number };
  maxBodyBytes: number;
  adminToken?: string;
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
 * Validates a parsed config file and resolves it against the environment. Throws a ConfigError
 * whose message names the first bad key (`sites.shop.destinations.0.baseUrl: Invalid URL`).
 */
export const resolveConfig = (input: unknown, env: Record<string, string | undefined> = process.env): RelayConfig => {
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
      if (seen.has(name)) throw new ConfigError(`${at}.name: "${name}" is used twice in this site; give each a unique name`);
      seen.add(name);
      const secrets: Record<string, string> = {};
      for (const [key, value] of Object.entries(d)) {
        if (key.endsWith('Env') && typeof value == 'string') secrets[key.slice(0, -3)] = readEnv(`${at}.${key}`, value);
      }
      if (d.type == 'webhook') {
        for (const [header, name] of Object.entries(d.headersEnv ?? {})) secrets['header:' + header] = readEnv(`${at}.headersEnv.${header}`, name);
      }
      if (d.type == 'tracardi' && !d.sourceId && !secrets.sourceId) throw new ConfigError(`${at}.sourceId: required (or sourceIdEnv)`);
      if (d.type == 'webhook') {
        if (!d.url == !d.urlEnv) throw new ConfigError(`${at}.url: give either url or urlEnv`);
        // The value is a secret: the error names the variable, never what it holds.
        if (d.urlEnv && !v.is(url, secrets.url)) throw new ConfigError(`${at}.urlEnv: environment variable ${d.urlEnv} does not hold an http(s) URL`);
      }
      for (const [key, value] of Object.entries(secrets))
        if (/[\r\n\0]/.test(value)) throw new ConfigError(`${at}: the value of ${key.startsWith('header:') ? `headersEnv.${key.slice(7)}` : key + 'Env'} contains a line break or NUL`);
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
    sites[site] = { origins: siteFile.origins.map((o) => (o == '*' ? o : new URL(o).origin)), dropBots: siteFile.dropBots ?? false, destinations };
  }
  return {
    sites,
    trustedProxies: file.trustedProxies ?? [],
    retention: {
      ages: Object.fromEntries(
        Object.entries(file.retention ?? {})
          .filter(([key]) => key != 'everyMinutes')
          .map(([key, value]) => [key, Math.round((value as number) * 86_400_000)]),
      ),
      everyMs: Math.round((file.retention?.everyMinutes ?? 10) * 60_000),
    },
    maxBodyBytes: file.maxBodyBytes ?? DEFAULTS.maxBodyBytes,
    adminToken: file.adminTokenEnv ? readEnv('adminTokenEnv', file.adminTokenEnv) : undefined,
    script: file.script,
    pollMs: delivery.pollMs,
    leaseMs: delivery.leaseMs,
    port: file.port,
    host: file.host,
    storage: file.storage,
  };
};
