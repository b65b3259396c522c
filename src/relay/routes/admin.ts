/**
 * The admin routes: `/status`, `/metrics`, `/dead-letters`, `/dead-letters/requeue`, `/erase` (and
 * the guard the event stream shares with them): they answer only to this relay's own host names
 * and, when an admin token is set, to a request that carries it.
 */
import { DEFAULT_LIMITS, isLoopbackHost, type RelayConfig } from '../config';
import { redact, type Worker } from '../delivery';
import type { Metrics } from '../metrics';
import type { Retention } from '../retention';
import type { DestinationCounts, Store } from '../store';
import { idSets, isSuppressed, type Suppression } from '../suppression';
import { json, readLimited, refuse, safeEqual } from './answers';
import type { EventStream } from './stream';
import type { Ingest } from './ingest';

/** The paths behind the admin guard. */
export const ADMIN_PATHS = new Set([
  '/status',
  '/metrics',
  '/dead-letters',
  '/dead-letters/requeue',
  '/events/stream',
  '/erase',
]);

/** What the admin routes work with. */
export interface AdminOptions {
  config: RelayConfig;
  store: Store;
  worker?: Worker;
  retention?: Retention;
  metrics?: Metrics;
  stream: EventStream;
  ingest: Ingest;
  suppression: Suppression;
  now: () => number;
  /** Where `?token=` is accepted (see HandlerOptions). */
  queryToken?: 'stream' | 'every-route';
}

/** The admin routes by path, and the guard in front of them. */
export interface Admin {
  /** A refusal when the request may not reach an admin route, else undefined. */
  guard(request: Request, url: URL): Response | undefined;
  status(): Promise<Response>;
  metrics(): Promise<Response>;
  deadLetters(url: URL): Promise<Response>;
  requeue(request: Request): Promise<Response>;
  erase(request: Request): Promise<Response>;
}

/** Creates the admin routes. */
export function createAdmin(options: AdminOptions): Admin {
  const { config, store, worker } = options;
  const allowedHosts = new Set(
    [...(config.allowedHosts ?? []), ...(config.host ? [config.host] : [])].map((h) =>
      h.toLowerCase(),
    ),
  );
  const { adminBodyBytes } = { ...DEFAULT_LIMITS, ...config.limits };
  // Errors are redacted when stored; shown again here, so that rows stored by an older relay are too.
  const secrets = new Map(
    Object.values(config.sites).flatMap((s) =>
      s.destinations.map((d) => [d.key, Object.values(d.secrets)] as const),
    ),
  );
  const shown = <T extends { destination: string; lastError?: string }>(row: T): T =>
    row.lastError
      ? { ...row, lastError: redact(row.lastError, secrets.get(row.destination)) }
      : row;

  const isAdmin = (request: Request, url: URL): boolean => {
    if (!config.adminToken) return true;
    const header = request.headers.get('authorization')?.replace(/^Bearer\s+/i, '');
    const queryAllowed = options.queryToken != 'stream' || url.pathname == '/events/stream';
    const token = header ?? (queryAllowed ? url.searchParams.get('token') : null) ?? '';
    return safeEqual(token, config.adminToken);
  };

  /**
   * True when the `Host` header names this relay: a loopback name, `host` or one of `allowedHosts`.
   * A page on another name resolved to this address (DNS rebinding) is refused. No header (not
   * HTTP/1.1, or a Request built in-process): nothing a browser could have sent.
   */
  const isAllowedHost = (request: Request): boolean => {
    const host = request.headers.get('host');
    if (host == null || allowedHosts.has('*')) return true;
    const name = host.toLowerCase().replace(/:\d*$/, '');
    return (
      isLoopbackHost(name) ||
      allowedHosts.has(name) ||
      allowedHosts.has(name.replace(/^\[(.*)\]$/, '$1'))
    );
  };

  const guard = (request: Request, url: URL): Response | undefined => {
    if (!isAllowedHost(request))
      return refuse(
        403,
        'host_not_allowed',
        'Host',
        `admin routes answer to loopback names, "host" and allowedHosts ` +
          `only, not "${(request.headers.get('host') ?? '').slice(0, 100)}"`,
      );
    if (isAdmin(request, url)) return undefined;
    const header =
      options.queryToken == 'stream' &&
      url.searchParams.has('token') &&
      url.pathname != '/events/stream';
    return refuse(
      401,
      'unauthorized',
      'Authorization',
      header
        ? 'send the admin token as "Authorization: Bearer <token>"; ?token= is accepted on /events/stream only'
        : 'a valid admin token is required',
    );
  };

  /**
   * Queues in the store of destinations the config no longer has (removed or renamed): their events
   * wait, unsent, until it has them again, and must stay in sight.
   */
  const unconfigured = (counts: Map<string, DestinationCounts>) => {
    const configured = new Set(
      Object.values(config.sites).flatMap((site) => site.destinations.map((d) => d.key)),
    );
    return [...counts.values()]
      .filter((c) => !configured.has(c.destination) && (c.queued || c.dead))
      .map((c) => ({ ...shown(c), configured: false, counters: {}, recent: [] }));
  };

  const status = async () => {
    const counts = new Map((await store.status()).map((c) => [c.destination, c]));
    const stats = worker?.stats() ?? {};
    const ingest = options.ingest.stats();
    const destinations = Object.values(config.sites).flatMap((site) =>
      site.destinations.map((d) => ({
        ...shown(
          counts.get(d.key) ?? {
            destination: d.key,
            queued: 0,
            retrying: 0,
            delivered: 0,
            dead: 0,
          },
        ),
        type: d.type,
        counters: {
          ...stats[d.key]?.counters,
          ...(ingest.skipped.has(d.key) ? { skippedUnknown: ingest.skipped.get(d.key)! } : {}),
        },
        recent: stats[d.key]?.recent ?? [],
      })),
    );
    const stream = options.stream.stats();
    return json(200, {
      events: await store.countEvents(),
      rejected: await store.countRejected(),
      suppressedEvents: ingest.suppressedEvents,
      ...(options.retention ? { retention: { pruned: options.retention.pruned() } } : {}),
      destinations: [...destinations, ...unconfigured(counts)],
      stream: {
        subscribers: stream.subscribers,
        queuedBytes: stream.queuedBytes,
        dropped: stream.dropped,
        refused: stream.refused,
      },
      rateLimited: ingest.rateLimited,
    });
  };

  const metrics = async () => {
    if (!options.metrics)
      return refuse(404, 'not_found', 'path', 'metrics are not enabled on this handler');
    return new Response(await options.metrics.text(), {
      headers: {
        'Content-Type': options.metrics.registry.contentType,
        'Cache-Control': 'no-store',
      },
    });
  };

  const deadLetters = async (url: URL) => {
    const letters = await store.deadLetters(
      url.searchParams.get('destination') ?? undefined,
      limitOf(url.searchParams.get('limit')),
    );
    return json(200, { deadLetters: letters.map(shown) });
  };

  return {
    guard,
    status,
    metrics,
    deadLetters,
    requeue: (request) => requeue(options, request, adminBodyBytes),
    erase: (request) => erase(options, request, adminBodyBytes),
  };
}

/** `limit=` of a listing: a whole number from 1 to 1,000, else 100 (LIMIT -1 is no limit at all in SQLite). */
const limitOf = (text: string | null) => {
  const limit = Math.trunc(Number(text ?? 100));
  return limit >= 1 ? Math.min(limit, 1000) : 100;
};

/** `POST /dead-letters/requeue` with `{ destination?, ids? }`: dead letters queued again. */
const requeue = async (
  { store, worker, now }: AdminOptions,
  request: Request,
  limit: number,
): Promise<Response> => {
  const text = await readLimited(request, limit);
  if (text == undefined)
    return refuse(413, 'body_too_large', '(body)', `the limit is ${limit} bytes`);
  let body: { destination?: unknown; ids?: unknown } = {};
  try {
    body = (text ? JSON.parse(text) : {}) ?? {};
  } catch {
    return refuse(400, 'invalid_json', '(body)', 'the body is not JSON');
  }
  const destination = typeof body.destination == 'string' ? body.destination : undefined;
  const ids = Array.isArray(body.ids)
    ? body.ids.filter((x): x is number => Number.isInteger(x))
    : undefined;
  const requeued = await store.requeue(destination, ids, now());
  if (requeued) worker?.kick();
  return json(200, { requeued });
};

/**
 * `POST /erase` with `{ anonymousId }` or `{ userId }`: the visitor's rows deleted and their later
 * events suppressed.
 */
const erase = async (
  { store, worker, now, suppression }: AdminOptions,
  request: Request,
  limit: number,
): Promise<Response> => {
  const text = await readLimited(request, limit);
  let body: { anonymousId?: unknown; userId?: unknown } | undefined;
  try {
    body = text == undefined ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  const pick = (value: unknown) =>
    typeof value == 'string' && value.length > 0 && value.length <= 512 ? value : undefined;
  const who = { anonymousId: pick(body?.anonymousId), userId: pick(body?.userId) };
  if (!who.anonymousId == !who.userId)
    return refuse(400, 'invalid_body', '(body)', 'send {"anonymousId": "…"} or {"userId": "…"}');
  const result = await store.erase(who, now());
  // Their deliveries the worker holds from ingests are gone from the store: not sent either.
  const gone = idSets(result.suppressed);
  worker?.forget?.((stored) => isSuppressed(stored.event, gone));
  await suppression.reload();
  return json(200, { erased: result });
};
