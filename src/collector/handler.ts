/**
 * The relay as a web-standard handler, `(Request, client?) => Promise<Response>`: ingest, CORS,
 * health, status, dead letters, the live event stream and the first-party script. Runs under the
 * Node adapter (server.ts) or any runtime that speaks Request/Response.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { RelayConfig } from './config';
import { redact, type Worker } from './delivery';
import { DESTINATIONS } from './destinations/index';
import { clientIp, enrich } from './enrich';
import { checkEvents, parseEnvelope } from './schema';
import { REJECTED_RAW_MAX, type RejectedEvent, type Store, type StoredEvent } from './store';

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
  /** Clock, for tests. */
  now?: () => number;
}

/** The first-party script: its bytes, SRI hash and versioned URL. */
export interface ScriptInfo {
  path: string;
  src: string;
  integrity: string;
  body: Buffer;
}

/** Reads the script file and computes its SRI (sha384) and a content-versioned src. */
export const loadScript = (script: { path: string; file: string }): ScriptInfo => {
  const body = readFileSync(script.file);
  const digest = createHash('sha384').update(body).digest();
  const version = createHash('sha256').update(body).digest('hex').slice(0, 12);
  return { path: script.path, src: `${script.path}?v=${version}`, integrity: 'sha384-' + digest.toString('base64'), body };
};

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers } });

/** A refusal that names what is wrong, as `{ error, field, message }`. */
const refuse = (status: number, error: string, field: string, message: string, headers?: Record<string, string>) => json(status, { error, field, message }, headers);

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
  /** The first-party script, when one is configured. */
  script?: ScriptInfo;
};

/** Creates the relay's request handler. */
export function createHandler(options: HandlerOptions): RelayHandler {
  const { config, store, worker } = options;
  const now = options.now ?? Date.now;
  const script = config.script ? loadScript(config.script) : undefined;
  const streams = new Set<ReadableStreamDefaultController<Uint8Array>>();
  const encoder = new TextEncoder();
  const allOrigins = new Set(Object.values(config.sites).flatMap((s) => s.origins));
  /** Per destination: events of an unknown type or metric it skipped. */
  const skipped = new Map<string, number>();
  // Errors are redacted when stored; shown again here, so that rows stored by an older relay are too.
  const secrets = new Map(Object.values(config.sites).flatMap((s) => s.destinations.map((d) => [d.key, Object.values(d.secrets)] as const)));
  const shown = <T extends { destination: string; lastError?: string }>(row: T): T => (row.lastError ? { ...row, lastError: redact(row.lastError, secrets.get(row.destination)) } : row);

  const publish = (events: StoredEvent[]) => {
    if (!streams.size) return;
    const chunk = encoder.encode(events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join(''));
    for (const controller of streams) {
      try {
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
    const token = header ?? url.searchParams.get('token') ?? '';
    return safeEqual(token, config.adminToken);
  };

  const ingest = async (request: Request, client: ClientInfo | undefined): Promise<Response> => {
    const origin = request.headers.get('origin');
    const type = (request.headers.get('content-type') ?? 'text/plain').toLowerCase();
    const anyOrigin = !origin || allOrigins.has('*') || allOrigins.has(origin);
    const headers = cors(origin, anyOrigin);
    if (!type.startsWith('text/plain') && !type.startsWith('application/json'))
      return refuse(415, 'unsupported_media_type', 'Content-Type', 'send text/plain or application/json', headers);
    const declared = Number(request.headers.get('content-length') ?? 0);
    if (declared > config.maxBodyBytes) return refuse(413, 'body_too_large', '(body)', `the limit is ${config.maxBodyBytes} bytes`, headers);
    const text = await readLimited(request, config.maxBodyBytes);
    if (text == undefined) return refuse(413, 'body_too_large', '(body)', `the limit is ${config.maxBodyBytes} bytes`, headers);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return refuse(400, 'invalid_json', '(body)', 'the body is not JSON', headers);
    }
    const parsed = parseEnvelope(body);
    if ('problem' in parsed) return refuse(400, 'invalid_body', parsed.problem.field, parsed.problem.message, headers);
    const { candidates } = parsed;
    const site = Object.hasOwn(config.sites, candidates.site) ? config.sites[candidates.site] : undefined;
    if (!site) return refuse(403, 'unknown_site', 'site', `no site "${candidates.site.slice(0, 100)}" is configured`, headers);
    // No Origin header: not a browser (or a same-origin GET-like request); browsers always send it on cross-site POSTs.
    if (origin && !site.origins.includes('*') && !site.origins.includes(origin))
      // Readable by the page (CORS allowed on the refusal only): its outbox then drops the batch as
      // refused instead of retrying an unreadable answer until the events expire.
      return refuse(403, 'origin_not_allowed', 'Origin', `${origin} may not send events for site "${candidates.site}"`, cors(origin, true));
    const receivedAt = now();
    const ip = clientIp(request.headers, client?.remoteAddress, config.trustedProxies);
    const { accepted, unknown, rejected } = checkEvents(candidates, receivedAt);
    const userAgent = request.headers.get('user-agent') ?? undefined;
    const events = enrich({ v: 1, site: candidates.site, sentAt: candidates.sentAt, events: accepted }, { receivedAt, ip, userAgent, origin: origin ?? undefined });
    const route = (stored: StoredEvent) => {
      if (site.dropBots && stored.bot) return [];
      const taking = site.destinations.filter((d) => DESTINATIONS[d.type].accepts(stored, d));
      // A type or metric this relay does not know: the destinations that cannot take it skip it, counted.
      if (unknown.has(stored.event)) for (const d of site.destinations) if (!taking.includes(d)) skipped.set(d.key, (skipped.get(d.key) ?? 0) + 1);
      return taking.map((d) => d.key);
    };
    const kept: RejectedEvent[] = rejected.map((r) => ({ site: candidates.site, receivedAt, index: r.index, field: r.field, reason: r.reason, raw: rawOf(candidates.events[r.index]), ...(ip ? { ip } : {}) }));
    // The store is out of reach (a database restart, a failover): nothing was stored, so the
    // browser's outbox keeps the batch and sends it again later.
    const result = await Promise.all([kept.length ? store.insertRejected(kept) : undefined, events.length ? store.insertEvents(events, route) : { inserted: [], duplicates: 0 }])
      .then(([, stored]) => stored)
      .catch((error: Error) => error);
    if (result instanceof Error)
      return refuse(503, 'store_unavailable', '(store)', `events not stored, send them again later: ${result.message}`, { ...headers, 'Retry-After': '5' });
    const { inserted, duplicates } = result;
    publish(inserted);
    if (inserted.length) worker?.kick();
    const answers = rejected.map(({ index, field, reason }) => ({ index, field, reason }));
    // Nothing in the body could be stored: refused as a whole, naming the first bad field as for a broken envelope.
    if (!accepted.length) {
      const first = rejected[0];
      const field = first.field == 'sentAt' ? 'sentAt' : first.field == '(event)' ? `events.${first.index}` : `events.${first.index}.${first.field}`;
      return json(400, { error: 'invalid_body', field, message: first.reason, rejected: answers }, headers);
    }
    return json(200, rejected.length ? { ok: true, accepted: inserted.length, duplicates, rejected: answers } : { ok: true, accepted: inserted.length, duplicates }, headers);
  };

  const stream = (url: URL): Response => {
    let self: ReadableStreamDefaultController<Uint8Array>;
    let heartbeat: ReturnType<typeof setInterval>;
    const replay = Math.min(Number(url.searchParams.get('replay') ?? 0) || 0, 1000);
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        self = controller;
        controller.enqueue(encoder.encode(': tracklet relay\n\n'));
        if (replay) controller.enqueue(encoder.encode((await store.events(replay)).map((e) => `data: ${JSON.stringify(e)}\n\n`).join('')));
        streams.add(controller);
        // Comments keep proxies from closing an idle stream.
        heartbeat = setInterval(() => {
          try {
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
    });
    return new Response(body, { headers: { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'Access-Control-Allow-Origin': '*' } });
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
    return { events: await store.countEvents(), rejected: await store.countRejected(), destinations };
  };

  const handler: Handler = async (request, client) => {
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
      if (method == 'POST' && (pathname == '/collect' || pathname == '/')) return await ingest(request, client);
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
      const admin = ['/status', '/dead-letters', '/dead-letters/requeue', '/events/stream'].includes(pathname);
      if (admin && !isAdmin(request, url)) return refuse(401, 'unauthorized', 'Authorization', 'a valid admin token is required');
      if (method == 'GET' && pathname == '/status') return json(200, await status());
      if (method == 'GET' && pathname == '/events/stream') return stream(url);
      if (method == 'GET' && pathname == '/dead-letters') {
        const letters = await store.deadLetters(url.searchParams.get('destination') ?? undefined, Math.min(Number(url.searchParams.get('limit') ?? 100) || 100, 1000));
        return json(200, { deadLetters: letters.map(shown) });
      }
      if (method == 'POST' && pathname == '/dead-letters/requeue') {
        const body = (await request.json().catch(() => ({}))) as { destination?: unknown; ids?: unknown };
        const destination = typeof body.destination == 'string' ? body.destination : undefined;
        const ids = Array.isArray(body.ids) ? body.ids.filter((x): x is number => Number.isInteger(x)) : undefined;
        const requeued = await store.requeue(destination, ids, now());
        if (requeued) worker?.kick();
        return json(200, { requeued });
      }
      return refuse(404, 'not_found', 'path', `${method} ${pathname} is not served here`);
    } catch (error) {
      return json(500, { error: 'internal', message: (error as Error).message });
    }
  };
  return Object.assign(handler, { publish, script });
}
