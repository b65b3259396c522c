/**
 * The ingest route (`POST /collect` or `POST /`): rate limits, content type and size, the wire
 * envelope, the site and its origins, then each event checked, enriched, stored and queued for the
 * site's destinations. Answers are plain data (`Answer`) so that the Node adapter's fast path
 * (server.ts) writes them without building a Response.
 */
import { DEFAULT_RATE_LIMIT, isLoopbackHost, type RelayConfig, type SiteConfig } from '../config';
import type { Worker } from '../delivery';
import { DESTINATIONS } from '../destinations/index';
import { clientIp, enrich, keptIp } from '../enrich';
import type { Metrics } from '../metrics';
import { createLimiter } from '../rate-limit';
import { checkEvents, parseEnvelope, type Candidates, type Refusal } from '../schema';
import {
  REJECTED_RAW_MAX,
  type Delivery,
  type RejectedEvent,
  type Store,
  type StoredEvent,
} from '../store';
import { isSuppressed, type Suppression } from '../suppression';
import type { TrackletEvent } from '../../types';
import { canonicalBody, decodeBody } from '../wire';
import { jsonAnswer, refusal, type Answer } from './answers';
import { corsHeaders, originAllowed } from './cors';

/** What the transport knows that a Request does not: the peer's address. */
export interface ClientInfo {
  remoteAddress?: string;
}

/** What ingest reads of a request: headers, and the body up to `limit` bytes (undefined past it). */
export interface IngestRequest {
  headers: { get(name: string): string | null };
  bytes(limit: number): Promise<Uint8Array | undefined>;
}

/** What the ingest route works with. */
export interface IngestOptions {
  config: RelayConfig;
  store: Store;
  worker?: Worker;
  metrics?: Metrics;
  suppression: Suppression;
  /** Sends stored events to the live stream. */
  publish(events: StoredEvent[]): void;
  now: () => number;
  log: (line: string) => void;
}

/** The ingest route and its counters. */
export interface Ingest {
  ingest(request: IngestRequest, client: ClientInfo | undefined): Promise<Answer>;
  /**
   * Events dropped as an erased visitor's, requests refused by each rate limit, and per destination
   * events of an unknown type it skipped.
   */
  stats(): {
    suppressedEvents: number;
    rateLimited: { ip: number; site: number; tracked: number };
    skipped: Map<string, number>;
  };
}

/** Destinations whose APIs take the client IP (Tracify's identity hashes, Tracardi's and DataCue's context). */
const IP_DESTINATIONS = new Set(['tracify', 'tracardi', 'datacue']);

/** A refused event as JSON, cut to the stored size; one that cannot be serialised says so. */
const rawOf = (candidate: unknown): string => {
  try {
    return (JSON.stringify(candidate) ?? String(candidate)).slice(0, REJECTED_RAW_MAX);
  } catch (error) {
    return `(not serialisable: ${(error as Error).message})`.slice(0, REJECTED_RAW_MAX);
  }
};

/** A 429 naming the limit, with the seconds until a retry can succeed. */
const limited = (field: string, seconds: number, headers: Record<string, string>) =>
  refusal(
    429,
    'rate_limited',
    field,
    `too many requests from this ${field == 'site' ? 'site' : 'address'}; retry in ${seconds} s`,
    { ...headers, 'Retry-After': String(seconds) },
  );

/**
 * The store is out of reach (a database restart, a failover): nothing was stored, so the browser's
 * outbox keeps the batch and sends it again later.
 */
const storeUnavailable = (headers: Record<string, string>) =>
  refusal(503, 'store_unavailable', '(store)', 'events not stored, send them again later', {
    ...headers,
    'Retry-After': '5',
  });

/**
 * The JSON body as a wire envelope (v1, v2 or v4), or the refusal naming what is wrong with it;
 * rebuilt as v1, it may be at most `limit` bytes long, as a plain body.
 */
const readEnvelope = (
  text: string,
  limit: number,
  headers: Record<string, string>,
): Candidates | Answer => {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return refusal(400, 'invalid_json', '(body)', 'the body is not JSON', headers);
  }
  const canonical = canonicalBody(body, limit - text.length);
  if ('problem' in canonical)
    return refusal(
      canonical.status ?? 400,
      canonical.status == 413 ? 'body_too_large' : 'invalid_body',
      canonical.problem.field,
      canonical.problem.message,
      headers,
    );
  const parsed = parseEnvelope(canonical.body);
  if ('problem' in parsed)
    return refusal(400, 'invalid_body', parsed.problem.field, parsed.problem.message, headers);
  return parsed.candidates;
};

/** The answer once the events are stored: what was accepted, or, when nothing could be, the first bad field. */
const accepted = (
  inserted: number,
  duplicates: number,
  dropped: number,
  rejected: Refusal[],
  anyAccepted: boolean,
  headers: Record<string, string>,
) => {
  const answers = rejected.map(({ index, field, reason }) => ({ index, field, reason }));
  // Nothing in the body could be stored: refused as a whole, naming the first bad field as for a broken envelope.
  if (!anyAccepted) {
    const first = rejected[0];
    const field =
      first.field == 'sentAt'
        ? 'sentAt'
        : first.field == '(event)'
          ? `events.${first.index}`
          : `events.${first.index}.${first.field}`;
    return jsonAnswer(
      400,
      { error: 'invalid_body', field, message: first.reason, rejected: answers },
      headers,
    );
  }
  return jsonAnswer(
    200,
    {
      ok: true,
      accepted: inserted,
      duplicates,
      ...(dropped ? { suppressed: dropped } : {}),
      ...(rejected.length ? { rejected: answers } : {}),
    },
    headers,
  );
};

/** Creates the ingest route. */
export function createIngest(options: IngestOptions): Ingest {
  const { config, store, worker, metrics, log } = options;
  const rateLimit = { ...DEFAULT_RATE_LIMIT, ...config.rateLimit };
  const ipLimiter = createLimiter(rateLimit.perIp, rateLimit.maxTracked, options.now);
  const siteLimiter = createLimiter(rateLimit.perSite, rateLimit.maxTracked, options.now);
  const allOrigins = new Set(Object.values(config.sites).flatMap((s) => s.origins));
  const storeIp = config.storeIp ?? 'full';
  const counters = { suppressedEvents: 0, rateLimitedIp: 0, rateLimitedSite: 0 };
  /** Per destination: events of an unknown type or metric it skipped. */
  const skipped = new Map<string, number>();

  /** The request up to its body: the client's rate limit, content type and size. */
  const admit = async (request: IngestRequest, client: ClientInfo | undefined) => {
    const origin = request.headers.get('origin');
    const type = (request.headers.get('content-type') ?? 'text/plain').toLowerCase();
    const headers = corsHeaders(origin, originAllowed(allOrigins, origin));
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
      return refusal(
        415,
        'unsupported_media_type',
        'Content-Type',
        'send text/plain or application/json',
        headers,
      );
    const tooLarge = () =>
      refusal(
        413,
        'body_too_large',
        '(body)',
        `the limit is ${config.maxBodyBytes} bytes`,
        headers,
      );
    if (Number(request.headers.get('content-length') ?? 0) > config.maxBodyBytes) return tooLarge();
    const bytes = await request.bytes(config.maxBodyBytes);
    if (bytes == undefined) return tooLarge();
    // A gzip body inflates to at most the same limit as a plain one.
    const decoded = decodeBody(bytes, config.maxBodyBytes);
    if ('problem' in decoded) {
      const { field, message } = decoded.problem;
      const error = decoded.status == 413 ? 'body_too_large' : 'invalid_body';
      return refusal(decoded.status, error, field, message, headers);
    }
    return { origin, headers, ip, exempt, text: decoded.text };
  };

  /** The envelope's site, if it is configured, the request's origin may send for it and its rate limit allows. */
  const siteOf = (
    candidates: Candidates,
    origin: string | null,
    exempt: boolean,
    headers: Record<string, string>,
  ): SiteConfig | Answer => {
    const site = Object.hasOwn(config.sites, candidates.site)
      ? config.sites[candidates.site]
      : undefined;
    if (!site)
      return refusal(
        403,
        'unknown_site',
        'site',
        `no site "${candidates.site.slice(0, 100)}" is configured`,
        headers,
      );
    // No Origin header: not a browser (or a same-origin GET-like request); browsers always send it on cross-site POSTs.
    if (origin && !site.origins.includes('*') && !site.origins.includes(origin))
      // Readable by the page (CORS allowed on the refusal only): its outbox then drops the batch as
      // refused instead of retrying an unreadable answer until the events expire.
      return refusal(
        403,
        'origin_not_allowed',
        'Origin',
        `${origin} may not send events for site "${candidates.site}"`,
        corsHeaders(origin, true),
      );
    const siteWait = exempt ? 0 : siteLimiter.take(candidates.site);
    if (siteWait) {
      counters.rateLimitedSite++;
      return limited('site', siteWait, headers);
    }
    return site;
  };

  /**
   * The destinations of `site` that take a stored event; a type or metric this relay does not know
   * is counted for those that skip it.
   */
  const router = (site: SiteConfig, unknown: Set<TrackletEvent>) => (stored: StoredEvent) => {
    if (site.dropBots && stored.bot) return [];
    const taking = site.destinations.filter((d) => DESTINATIONS[d.type].accepts(stored, d));
    if (unknown.has(stored.event))
      for (const d of site.destinations)
        if (!taking.includes(d)) skipped.set(d.key, (skipped.get(d.key) ?? 0) + 1);
    return taking.map((d) => d.key);
  };

  /** Stores the refused events and the accepted ones (queued for `route`); the error when the store is out of reach. */
  const save = async (
    events: StoredEvent[],
    kept: RejectedEvent[],
    route: (stored: StoredEvent) => string[],
  ) => {
    // Queued already leased to this process's worker when it has room: it sends them from memory.
    const leaseUntil = events.length ? worker?.handOff?.() : undefined;
    const result = await Promise.all([
      kept.length ? store.insertRejected(kept) : undefined,
      events.length
        ? store.insertEvents(events, route, leaseUntil ? { leaseUntil } : undefined)
        : { inserted: [], duplicates: 0 },
    ])
      .then(([, stored]) => stored)
      .catch((error: Error) => error);
    if (result instanceof Error) return result;
    const { inserted, duplicates, leased } = result as {
      inserted: StoredEvent[];
      duplicates: number;
      leased?: Delivery[];
    };
    publish(inserted, leased, leaseUntil);
    return { inserted, duplicates };
  };

  /** Stored events to the live stream, and to the worker: from memory when they were leased to it. */
  const publish = (
    inserted: StoredEvent[],
    leased: Delivery[] | undefined,
    leaseUntil: number | undefined,
  ) => {
    options.publish(inserted);
    if (leased && leaseUntil && worker?.offer) worker.offer(leased, leaseUntil);
    else if (inserted.length) worker?.kick();
  };

  const ingest = async (
    request: IngestRequest,
    client: ClientInfo | undefined,
  ): Promise<Answer> => {
    const admitted = await admit(request, client);
    if ('status' in admitted) return admitted;
    const { origin, headers, ip } = admitted;
    const candidates = readEnvelope(admitted.text, config.maxBodyBytes, headers);
    if ('status' in candidates) return candidates;
    const site = siteOf(candidates, origin, admitted.exempt, headers);
    if ('status' in site) return site;
    const receivedAt = options.now();
    const checked = checkEvents(candidates, receivedAt);
    const erased = await options.suppression
      .current()
      .catch((error: Error) => void log(`ingest: suppression list not read: ${error.message}`));
    if (!erased) {
      metrics?.storeError();
      return storeUnavailable(headers);
    }
    const wanted =
      erased.anonymousIds.size || erased.userIds.size
        ? checked.accepted.filter((event) => !isSuppressed(event, erased))
        : checked.accepted;
    const dropped = checked.accepted.length - wanted.length;
    counters.suppressedEvents += dropped;
    const events = enrich(
      { v: 1, site: candidates.site, sentAt: candidates.sentAt, events: wanted },
      {
        receivedAt,
        ip,
        userAgent: request.headers.get('user-agent') ?? undefined,
        origin: origin ?? undefined,
        storeIp,
        sendIp: site.destinations.some((d) => IP_DESTINATIONS.has(d.type)),
      },
    );
    const ipKept = keptIp(ip, storeIp);
    const kept: RejectedEvent[] = checked.rejected.map((r) => ({
      site: candidates.site,
      receivedAt,
      index: r.index,
      field: r.field,
      reason: r.reason,
      raw: rawOf(candidates.events[r.index]),
      ...(ipKept ? { ip: ipKept } : {}),
    }));
    const saved = await save(events, kept, router(site, checked.unknown));
    if (saved instanceof Error) {
      log(`ingest: events not stored: ${saved.message}`);
      metrics?.storeError();
      return storeUnavailable(headers);
    }
    metrics?.events(candidates.site, 'accepted', saved.inserted.length);
    metrics?.events(candidates.site, 'duplicate', saved.duplicates);
    metrics?.events(candidates.site, 'rejected', checked.rejected.length);
    metrics?.events(candidates.site, 'suppressed', dropped);
    return accepted(
      saved.inserted.length,
      saved.duplicates,
      dropped,
      checked.rejected,
      checked.accepted.length > 0,
      headers,
    );
  };

  const stats = () => ({
    suppressedEvents: counters.suppressedEvents,
    rateLimited: {
      ip: counters.rateLimitedIp,
      site: counters.rateLimitedSite,
      tracked: ipLimiter.size() + siteLimiter.size(),
    },
    skipped,
  });
  return { ingest, stats };
}
