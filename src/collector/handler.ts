/**
 * The relay as a web-standard handler, `(Request, client?) => Promise<Response>`: ingest, CORS,
 * health, status, dead letters, the live event stream and the first-party script. Runs under the
 * Node adapter (server.ts) or any runtime that speaks Request/Response.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { DEFAULT_LIMITS, DEFAULT_RATE_LIMIT, isLoopbackHost, type RelayConfig } from './config';
import { redact, type Worker } from './delivery';
import type { Metrics } from './metrics';
import type { Retention } from './retention';
import { DESTINATIONS } from './destinations/index';
import { clientIp, enrich, keptIp } from './enrich';
import { createLimiter } from './rate-limit';
import { checkEvents, parseEnvelope } from './schema';
import { REJECTED_RAW_MAX, type Delivery, type RejectedEvent, type Store, type StoredEvent } from './store';
import { canonicalBody } from './wire';

/** What the transport knows that a Request does not: the peer's address. */
export interface ClientInfo {
  remoteAddress?: string;
}

/** The relay's request handler. */
export type Handler = (request: Request, client?: ClientInfo) => Promise<Response>;

/** What the handler works with. */
export interface HandlerOptions {
  config: RelayConfig;
  store: Store;
  /** Kicked after each ingest; its stats join the status view. */
  worker?: Worker;
  /** The pruner: its counts join the status view. */
  retention?: Retention;
  /** Prometheus metrics: counted here, served at /metrics. */
  metrics?: Metrics;
  /** Clock, for tests. */
  now?: () => number;
  /** Receives the detail of internal errors (answers carry a generic message). */
  log?: (line: string) => void;
  /**
   * Where `?token=` is accepted: only on the event stream (an EventSource cannot send headers; tokens
   * in URLs end up in proxy logs), or on every admin route as before. `startRelay` uses `'stream'`.
   */
  queryToken?: 'stream' | 'every-route';
}

/** The first-party script: its bytes, SRI hash and versioned URL. */
export interface ScriptInfo {
  path: string;
  src: string;
  integrity: string;
  body: Buffer;
}

/** Destinations whose APIs take the client IP (Tracify's identity hashes, Tracardi's and DataCue's context). */
const IP_DESTINATIONS = new Set(['tracify', 'tracardi', 'datacue']);

/** The script tag's second and third files, fetched by the first from next to itself. */
const BESIDE_FILES = ['tracklet.captures.js', 'tracklet.marketing.js'];

/** Reads the script file and computes its SRI (sha384) and a content-versioned src. */
export const loadScript = (script: { path: string; file: string }): ScriptInfo => {
  const body = readFileSync(script.file);
  const digest = createHash('sha384').update(body).digest();
  const version = createHash('sha256').update(body).digest('hex').slice(0, 12);
  return { path: script.path, src: `${script.path}?v=${version}`, integrity: 'sha384-' + digest.toString('base64'), body };
};

/** An answer as plain data, so the Node adapter writes the ingest route's without building a Response. */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** What ingest reads of a request: headers, and the body up to `limit` bytes (undefined past it). */
export interface IngestRequest {
  headers: { get(name: string): string | null };
  text(limit: number): Promise<string | undefined>;
}

const jsonAnswer = (status: number, body: unknown, headers: Record<string, string> = {}): Answer => ({
  status,
  headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers },
  body: JSON.stringify(body),
});

const toResponse = (answer: Answer): Response => new Response(answer.body, { status: answer.status, headers: answer.headers });

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Response => toResponse(jsonAnswer(status, body, headers));

/** A refusal that names what is wrong, as `{ error, field, message }`. */
const refusal = (status: number, error: string, field: string, message: string, headers?: Record<string, string>) => jsonAnswer(status, { error, field, message }, headers);
const refuse = (status: number, error: string, field: string, message: string, headers?: Record<string, string>) => toResponse(refusal(status, error, field, message, headers));

/** What the relay answers when a request fails inside it; the detail goes to the log only. */
const INTERNAL = { error: 'internal', message: 'the relay could not answer this request; the detail is in its log' };

/** Reads a body up to `limit` bytes; undefined past it. */
const readLimited = async (request: Request, limit: number): Promise<string | undefined> => {
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
};

const safeEqual = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length == y.length && timingSafeEqual(x, y);
};

/** A refused event as JSON, cut to the stored size; one that cannot be serialised says so. */
const rawOf = (candidate: unknown): string => {
  try {
    return (JSON.stringify(candidate) ?? String(candidate)).slice(0, REJECTED_RAW_MAX);
  } catch (error) {
    return `(not serialisable: ${(error as Error).message})`.slice(0, REJECTED_RAW_MAX);
  }
};

/** The handler, with what it serves besides requests. */
export type RelayHandler = Handler & {
  /** Sends events to the live stream's subscribers (for anything else that stores events). */
  publish(events: StoredEvent[]): void;
  /**
   * The ingest route (`POST /collect` or `POST /`) as plain data, for an adapter that reads headers
   * and body itself (server.ts): the same checks, answers and metrics as through the handler.
   */
  collect(request: IngestRequest, client: ClientInfo | undefined, pathname: string): Promise<Answer>;
  /** The first-party script, when one is configured. */
  script?: ScriptInfo;
};

/** Creates the relay's request handler. */
export function createHandler(options: HandlerOptions): RelayHandler {
  const { config, store, worker } = options;
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => {});
  const limits = { ...DEFAULT_LIMITS, ...config.limits };
  const rateLimit = { ...DEFAULT_RATE_LIMIT, ...config.rateLimit };
  const ipLimiter = createLimiter(rateLimit.perIp, rateLimit.maxTracked, now);
  const siteLimiter = createLimiter(rateLimit.perSite, rateLimit.maxTracked, now);
  const allowedHosts = new Set([...(config.allowedHosts ?? []), ...(config.host ? [config.host] : [])].map((h) => h.toLowerCase()));
  let starting = 0;
  const counters = { streamDropped: 0, streamRefused: 0, rateLimitedIp: 0, rateLimitedSite: 0 };
  const script = config.script ? loadScript(config.script) : undefined;
  // The script tag's second and third files (captures; marketing), which the first fetches from next
  // to its own URL: served beside the script's path when the build has it beside the script's file.
  const beside = BESIDE_FILES.flatMap((name) => {
    const file = config.script && join(dirname(config.script.file), name);
    return config.script && file && existsSync(file) ? [loadScript({ path: posix.join(posix.dirname(config.script.path), name), file })] : [];
  });
  const streams = new Set<ReadableStreamDefaultController<Uint8Array>>();
  /** Bytes queued for a subscriber and not yet taken by its connection. */
  const behind = (controller: ReadableStreamDefaultController<Uint8Array>) => limits.streamBufferBytes - (controller.desiredSize ?? 0);
  const encoder = new TextEncoder();
  const allOrigins = new Set(Object.values(config.sites).flatMap((s) => s.origins));
  // Erased visitors: their later events are dropped at ingest, counted. Loaded before the first
  // ingest and read again at most a minute later (another relay on the same database may erase).
  let suppressed = { anonymousIds: new Set<string>(), userIds: new Set<string>() };
  let suppressedLoaded: Promise<void> | undefined;
  let suppressedAt = 0;
  let suppressedEvents = 0;
  const loadSuppressed = () =>
    // A store written before erasure existed has no suppression list.
    (store.suppressed?.() ?? Promise.resolve({ anonymousIds: [], userIds: [] })).then((ids) => {
      suppressed = { anonymousIds: new Set(ids.anonymousIds), userIds: new Set(ids.userIds) };
      suppressedAt = Date.now();
    });
  const currentSuppressed = async () => {
    if (!suppressedLoaded)
      suppressedLoaded = loadSuppressed().catch((error) => {
        // Tried again by the next request.
        suppressedLoaded = undefined;
        throw error;
      });
    else if (Date.now() - suppressedAt > 60_000) void loadSuppressed().catch(() => {});
    await suppressedLoaded;
    return suppressed;
  };
  const isSuppressed = (event: { anonymousId?: unknown; userId?: unknown }, ids: typeof suppressed) =>
    (typeof event.anonymousId == 'string' && ids.anonymousIds.has(event.anonymousId)) || (typeof event.userId == 'string' && ids.userIds.has(event.userId));

  /** Per destination: events of an unknown type or metric it skipped. */
  const skipped = new Map<string, number>();
  // Errors are redacted when stored; shown again here, so that rows stored by an older relay are too.
  const secrets = new Map(Object.values(config.sites).flatMap((s) => s.destinations.map((d) => [d.key, Object.values(d.secrets)] as const)));
  const shown = <T extends { destination: string; lastError?: string }>(row: T): T => (row.lastError ? { ...row, lastError: redact(row.lastError, secrets.get(row.destination)) } : row);

  const publish = (events: StoredEvent[]) => {
    if (!streams.size) return;
    // The full IP kept for destinations is no business of the live stream's.
    const chunk = encoder.encode(events.map(({ sendIp, ...e }) => `data: ${JSON.stringify(e)}\n\n`).join(''));
    for (const controller of streams) {
      try {
        // A subscriber that does not read would grow this queue without bound: once it is
        // `streamBufferBytes` behind it is dropped instead (an EventSource reconnects by itself and
        // can ask for a replay). The queue holds at most that plus one publish.
        if ((controller.desiredSize ?? 0) <= 0) {
          counters.streamDropped++;
          streams.delete(controller);
          controller.error(new Error('subscriber fell behind'));
          continue;
        }
        controller.enqueue(chunk);
      } catch {
        streams.delete(controller);
      }
    }
  };

  // `Retry-After` is exposed so that a cross-origin page's outbox can honour it.
  const cors = (origin: string | null, allowed: boolean): Record<string, string> =>
    origin && allowed
      ? { 'Access-Control-Allow-Origin': origin, 'Access-Control-Expose-Headers': 'Retry-After', Vary: 'Origin' }
      : { Vary: 'Origin' };

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
    return isLoopbackHost(name) || allowedHosts.has(name) || allowedHosts.has(name.replace(/^\[(.*)\]$/, '$1'));
  };

  /** A 429 naming the limit, with the seconds until a retry can succeed. */
  const limited = (field: string, seconds: number, headers: Record<string, string>) =>
    refusal(429, 'rate_limited', field, `too many requests from this ${field == 'site' ? 'site' : 'address'}; retry in ${seconds} s`, { ...headers, 'Retry-After': String(seconds) });

  const ingest = async (request: IngestRequest, client: ClientInfo | undefined): Promise<Answer> => {
    const origin = request.headers.get('origin');
    const type = (request.headers.get('content-type') ?? 'text/plain').toLowerCase();
    const anyOrigin = !origin || allOrigins.has('*') || allOrigins.has(origin);
    const headers = cors(origin, anyOrigin);
    // clientIp reads the headers with get() only.
    const ip = clientIp(request.headers as Headers, client?.remoteAddress, config.trustedProxies);
    const exempt = rateLimit.exemptLoopback && !!ip && isLoopbackHost(ip);
    // No address (a runtime that does not pass one): only the site's bucket applies.
    const ipWait = exempt || !ip ? 0 : ipLimiter.take(ip);
    if (ipWait) {
      counters.rateLimitedIp++;
      return limited('(client)', ipWait, headers);
    }
    if (!type.startsWith('text/plain') && !type.startsWith('application/json'))
      return refusal(415, 'unsupported_media_type', 'Content-Type', 'send text/plain or application/json', headers);
    const declared = Number(request.headers.get('content-length') ?? 0);
    if (declared > config.maxBodyBytes) return refusal(413, 'body_too_large', '(body)', `the limit is ${config.maxBodyBytes} bytes`, headers);
    const text = await request.text(config.maxBodyBytes);
    if (text == undefined) return refusal(413, 'body_too_large', '(body)', `the limit is ${config.maxBodyBytes} bytes`, headers);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return refusal(400, 'invalid_json', '(body)', 'the body is not JSON', headers);
    }
    const canonical = canonicalBody(body);
    if ('problem' in canonical) return refusal(400, 'invalid_body', canonical.problem.field, canonical.problem.message, headers);
    const parsed = parseEnvelope(canonical.body);
    if ('problem' in parsed) return refusal(400, 'invalid_body', parsed.problem.field, parsed.problem.message, headers);
    const { candidates } = parsed;
    const site = Object.hasOwn(config.sites, candidates.site) ? config.sites[candidates.site] : undefined;
    if (!site) return refusal(403, 'unknown_site', 'site', `no site "${candidates.site.slice(0, 100)}" is configured`, headers);
    // No Origin header: not a browser (or a same-origin GET-like request); browsers always send it on cross-site POSTs.
    if (origin && !site.origins.includes('*') && !site.origins.includes(origin))
      // Readable by the page (CORS allowed on the refusal only): its outbox then drops the batch as
      // refused instead of retrying an unreadable answer until the events expire.
      return refusal(403, 'origin_not_allowed', 'Origin', `${origin} may not send events for site "${candidates.site}"`, cors(origin, true));
    const siteWait = exempt ? 0 : siteLimiter.take(candidates.site);
    if (siteWait) {
      counters.rateLimitedSite++;
      return limited('site', siteWait, headers);
    }
    const receivedAt = now();
    const { accepted, unknown, rejected } = checkEvents(candidates, receivedAt);
    const userAgent = request.headers.get('user-agent') ?? undefined;
    const erased = await currentSuppressed().catch((error: Error) => void log(`ingest: suppression list not read: ${error.message}`));
    if (!erased) {
      options.metrics?.storeError();
      return refusal(503, 'store_unavailable', '(store)', 'events not stored, send them again later', { ...headers, 'Retry-After': '5' });
    }
    const wanted = erased.anonymousIds.size || erased.userIds.size ? accepted.filter((event) => !isSuppressed(event, erased)) : accepted;
    const dropped = accepted.length - wanted.length;
    suppressedEvents += dropped;
    const events = enrich(
      { v: 1, site: candidates.site, sentAt: candidates.sentAt, events: wanted },
      { receivedAt, ip, userAgent, origin: origin ?? undefined, storeIp: config.storeIp ?? 'full', sendIp: site.destinations.some((d) => IP_DESTINATIONS.has(d.type)) },
    );
    const route = (stored: StoredEvent) => {
      if (site.dropBots && stored.bot) return [];
      const taking = site.destinations.filter((d) => DESTINATIONS[d.type].accepts(stored, d));
      // A type or metric this relay does not know: the destinations that cannot take it skip it, counted.
      if (unknown.has(stored.event)) for (const d of site.destinations) if (!taking.includes(d)) skipped.set(d.key, (skipped.get(d.key) ?? 0) + 1);
      return taking.map((d) => d.key);
    };
    const kept: RejectedEvent[] = rejected.map((r) => ({ site: candidates.site, receivedAt, index: r.index, field: r.field, reason: r.reason, raw: rawOf(candidates.events[r.index]), ...(keptIp(ip, config.storeIp ?? 'full') ? { ip: keptIp(ip, config.storeIp ?? 'full') } : {}) }));
    // The store is out of reach (a database restart, a failover): nothing was stored, so the
    // browser's outbox keeps the batch and sends it again later.
    // Queued already leased to this process's worker when it has room: it sends them from memory.
    const leaseUntil = events.length ? worker?.handOff?.() : undefined;
    const result = await Promise.all([
      kept.length ? store.insertRejected(kept) : undefined,
      events.length ? store.insertEvents(events, route, leaseUntil ? { leaseUntil } : undefined) : { inserted: [], duplicates: 0 },
    ])
      .then(([, stored]) => stored)
      .catch((error: Error) => error);
    if (result instanceof Error) {
      log(`ingest: events not stored: ${result.message}`);
      options.metrics?.storeError();
      return refusal(503, 'store_unavailable', '(store)', 'events not stored, send them again later', { ...headers, 'Retry-After': '5' });
    }
    const { inserted, duplicates, leased } = result as { inserted: StoredEvent[]; duplicates: number; leased?: Delivery[] };
    if (options.metrics) {
      options.metrics.events(candidates.site, 'accepted', inserted.length);
      options.metrics.events(candidates.site, 'duplicate', duplicates);
      options.metrics.events(candidates.site, 'rejected', rejected.length);
      options.metrics.events(candidates.site, 'suppressed', dropped);
    }
    publish(inserted);
    if (leased && leaseUntil && worker?.offer) worker.offer(leased, leaseUntil);
    else if (inserted.length) worker?.kick();
    const answers = rejected.map(({ index, field, reason }) => ({ index, field, reason }));
    // Nothing in the body could be stored: refused as a whole, naming the first bad field as for a broken envelope.
    if (!accepted.length) {
      const first = rejected[0];
      const field = first.field == 'sentAt' ? 'sentAt' : first.field == '(event)' ? `events.${first.index}` : `events.${first.index}.${first.field}`;
      return jsonAnswer(400, { error: 'invalid_body', field, message: first.reason, rejected: answers }, headers);
    }
    return jsonAnswer(
      200,
      { ok: true, accepted: inserted.length, duplicates, ...(dropped ? { suppressed: dropped } : {}), ...(rejected.length ? { rejected: answers } : {}) },
      headers,
    );
  };

  /**
   * The last `count` stored events as stream messages, oldest first, at most `limits.replayBytes` of
   * them. Read in growing pages, so that large events never load `count` of them at once.
   */
  const replayed = async (count: number): Promise<Uint8Array> => {
    for (let page = Math.min(count, 16); ; page = Math.min(count, page * 4)) {
      const events = await store.events(page);
      const messages: string[] = [];
      let bytes = 0;
      let full = false;
      // Newest first, so that the bound keeps the most recent events.
      for (let i = events.length - 1; i >= 0 && !full; i--) {
        const message = `data: ${JSON.stringify(events[i])}\n\n`;
        bytes += Buffer.byteLength(message);
        if (bytes > limits.replayBytes) full = true;
        else messages.push(message);
      }
      if (full || events.length < page || page == count) return encoder.encode(messages.reverse().join(''));
    }
  };

  const stream = (url: URL): Response => {
    if (streams.size + starting >= limits.streamSubscribers) {
      counters.streamRefused++;
      return refuse(503, 'too_many_subscribers', '(stream)', `at most ${limits.streamSubscribers} event stream subscribers at once`, { 'Retry-After': '10' });
    }
    let self: ReadableStreamDefaultController<Uint8Array>;
    let heartbeat: ReturnType<typeof setInterval>;
    const replay = Math.min(Number(url.searchParams.get('replay') ?? 0) || 0, 1000);
    // Counted while the replay is read, so that concurrent requests cannot pass the cap.
    starting++;
    const body = new ReadableStream<Uint8Array>(
      {
        async start(controller) {
          self = controller;
          try {
            controller.enqueue(encoder.encode(': tracklet relay\n\n'));
            if (replay) controller.enqueue(await replayed(replay));
          } finally {
            starting--;
          }
          streams.add(controller);
          // Comments keep proxies from closing an idle stream.
          heartbeat = setInterval(() => {
            try {
              if (!streams.has(controller)) return clearInterval(heartbeat);
              controller.enqueue(encoder.encode(': ping\n\n'));
            } catch {
              clearInterval(heartbeat);
            }
          }, 15_000);
          heartbeat.unref?.();
        },
        cancel() {
          clearInterval(heartbeat);
          streams.delete(self);
        },
      },
      // Counted in bytes: `desiredSize` then says how far the subscriber is behind.
      { highWaterMark: limits.streamBufferBytes, size: (chunk) => chunk.byteLength },
    );
    // No CORS: the stream carries visitors' IPs and ids, for the operator's own pages only.
    return new Response(body, { headers: { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' } });
  };

  const status = async () => {
    const counts = new Map((await store.status()).map((c) => [c.destination, c]));
    const stats = worker?.stats() ?? {};
    const destinations = Object.values(config.sites).flatMap((site) =>
      site.destinations.map((d) => ({
        ...shown(counts.get(d.key) ?? { destination: d.key, queued: 0, retrying: 0, delivered: 0, dead: 0 }),
        type: d.type,
        counters: { ...stats[d.key]?.counters, ...(skipped.has(d.key) ? { skippedUnknown: skipped.get(d.key)! } : {}) },
        recent: stats[d.key]?.recent ?? [],
      })),
    );
    const queuedBytes = [...streams].reduce((sum, controller) => sum + Math.max(0, behind(controller)), 0);
    return {
      events: await store.countEvents(),
      rejected: await store.countRejected(),
      suppressedEvents,
      ...(options.retention ? { retention: { pruned: options.retention.pruned() } } : {}),
      destinations,
      stream: { subscribers: streams.size, queuedBytes, dropped: counters.streamDropped, refused: counters.streamRefused },
      rateLimited: { ip: counters.rateLimitedIp, site: counters.rateLimitedSite, tracked: ipLimiter.size() + siteLimiter.size() },
    };
  };

  const handler: Handler = async (request, client) => {
    const response = await answer(request, client);
    options.metrics?.request(new URL(request.url).pathname, response.status);
    return response;
  };

  const answer: Handler = async (request, client) => {
    const url = new URL(request.url);
    const { pathname } = url;
    const method = request.method;
    try {
      if (method == 'OPTIONS') {
        const origin = request.headers.get('origin');
        const allowed = !!origin && (allOrigins.has('*') || allOrigins.has(origin));
        return new Response(null, {
          status: allowed ? 204 : 403,
          headers: { ...cors(origin, allowed), 'Access-Control-Allow-Methods': 'POST, GET, OPTIONS', 'Access-Control-Allow-Headers': 'Content-Type', 'Access-Control-Max-Age': '86400' },
        });
      }
      if (method == 'POST' && (pathname == '/collect' || pathname == '/')) return toResponse(await ingest({ headers: request.headers, text: (limit) => readLimited(request, limit) }, client));
      if (method == 'GET' && pathname == '/health') return json(200, { status: 'ok' });
      if (script && (method == 'GET' || method == 'HEAD') && pathname == script.path) {
        const versioned = url.searchParams.get('v') == script.src.split('v=')[1];
        return new Response(method == 'HEAD' ? null : new Uint8Array(script.body), {
          headers: {
            'Content-Type': 'text/javascript; charset=utf-8',
            // A versioned URL never changes content, so it may be cached for a year; the bare path revalidates daily.
            'Cache-Control': versioned ? 'public, max-age=31536000, immutable' : 'public, max-age=86400',
            ETag: `"${script.src.split('v=')[1]}"`,
            'X-Integrity': script.integrity,
            'Access-Control-Allow-Origin': '*',
          },
        });
      }
      if (script && method == 'GET' && pathname == script.path + '.json') return json(200, { src: script.src, integrity: script.integrity });
      const captures = (method == 'GET' || method == 'HEAD') && beside.find((file) => file.path == pathname);
      if (captures)
        return new Response(method == 'HEAD' ? null : new Uint8Array(captures.body), {
          headers: {
            'Content-Type': 'text/javascript; charset=utf-8',
            // Fetched by its bare name (the first file knows no version): revalidated daily by its ETag.
            'Cache-Control': 'public, max-age=86400',
            ETag: `"${captures.src.split('v=')[1]}"`,
            'X-Integrity': captures.integrity,
            'Access-Control-Allow-Origin': '*',
          },
        });
      // Readiness, for load balancers: the store answers (503 while the database is out of reach).
      if (method == 'GET' && pathname == '/ready') {
        const ready = await Promise.race([store.ping().then(() => true), new Promise<boolean>((resolve) => setTimeout(resolve, 2000, false).unref?.())]).catch(() => false);
        return ready ? json(200, { status: 'ready' }) : json(503, { status: 'unavailable', error: 'store_unavailable' }, { 'Retry-After': '5' });
      }
      const admin = ['/status', '/metrics', '/dead-letters', '/dead-letters/requeue', '/events/stream', '/erase'].includes(pathname);
      if (admin && !isAllowedHost(request))
        return refuse(403, 'host_not_allowed', 'Host', `admin routes answer to loopback names, "host" and allowedHosts only, not "${(request.headers.get('host') ?? '').slice(0, 100)}"`);
      if (admin && !isAdmin(request, url)) {
        const header = options.queryToken == 'stream' && url.searchParams.has('token') && pathname != '/events/stream';
        return refuse(401, 'unauthorized', 'Authorization', header ? 'send the admin token as "Authorization: Bearer <token>"; ?token= is accepted on /events/stream only' : 'a valid admin token is required');
      }
      if (method == 'GET' && pathname == '/status') return json(200, await status());
      if (method == 'GET' && pathname == '/metrics') {
        if (!options.metrics) return refuse(404, 'not_found', 'path', 'metrics are not enabled on this handler');
        return new Response(await options.metrics.text(), { headers: { 'Content-Type': options.metrics.registry.contentType, 'Cache-Control': 'no-store' } });
      }
      if (method == 'GET' && pathname == '/events/stream') return stream(url);
      if (method == 'GET' && pathname == '/dead-letters') {
        const letters = await store.deadLetters(url.searchParams.get('destination') ?? undefined, Math.min(Number(url.searchParams.get('limit') ?? 100) || 100, 1000));
        return json(200, { deadLetters: letters.map(shown) });
      }
      if (method == 'POST' && pathname == '/dead-letters/requeue') {
        const text = await readLimited(request, limits.adminBodyBytes);
        if (text == undefined) return refuse(413, 'body_too_large', '(body)', `the limit is ${limits.adminBodyBytes} bytes`);
        let body: { destination?: unknown; ids?: unknown } = {};
        try {
          body = (text ? JSON.parse(text) : {}) ?? {};
        } catch {
          return refuse(400, 'invalid_json', '(body)', 'the body is not JSON');
        }
        const destination = typeof body.destination == 'string' ? body.destination : undefined;
        const ids = Array.isArray(body.ids) ? body.ids.filter((x): x is number => Number.isInteger(x)) : undefined;
        const requeued = await store.requeue(destination, ids, now());
        if (requeued) worker?.kick();
        return json(200, { requeued });
      }
      if (method == 'POST' && pathname == '/erase') {
        const text = await readLimited(request, limits.adminBodyBytes);
        let body: { anonymousId?: unknown; userId?: unknown } | undefined;
        try {
          body = text == undefined ? undefined : JSON.parse(text);
        } catch {
          body = undefined;
        }
        const pick = (value: unknown) => (typeof value == 'string' && value.length > 0 && value.length <= 512 ? value : undefined);
        const who = { anonymousId: pick(body?.anonymousId), userId: pick(body?.userId) };
        if (!who.anonymousId == !who.userId) return refuse(400, 'invalid_body', '(body)', 'send {"anonymousId": "…"} or {"userId": "…"}');
        const result = await store.erase(who, now());
        // Their deliveries the worker holds from ingests are gone from the store: not sent either.
        const gone = { anonymousIds: new Set(result.suppressed.anonymousIds), userIds: new Set(result.suppressed.userIds) };
        worker?.forget?.((stored) => isSuppressed(stored.event, gone));
        await loadSuppressed();
        return json(200, { erased: result });
      }
      return refuse(404, 'not_found', 'path', `${method} ${pathname} is not served here`);
    } catch (error) {
      // The detail stays in the log: it can name files, hosts or queries a browser has no business seeing.
      log(`${method} ${pathname}: ${(error as Error).stack ?? error}`);
      return json(500, INTERNAL);
    }
  };

  const collect = async (request: IngestRequest, client: ClientInfo | undefined, pathname: string): Promise<Answer> => {
    let answered: Answer;
    try {
      answered = await ingest(request, client);
    } catch (error) {
      log(`POST ${pathname}: ${(error as Error).stack ?? error}`);
      answered = jsonAnswer(500, INTERNAL);
    }
    options.metrics?.request(pathname, answered.status);
    return answered;
  };
  return Object.assign(handler, { publish, script, collect });
}
