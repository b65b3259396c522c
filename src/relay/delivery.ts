/**
 * The delivery worker: every `pollMs` (and right after an ingest) it leases each destination's due
 * deliveries, hands them to the destination module, and records the outcome — delivered, retry
 * later with exponential backoff and jitter, or a dead letter after the last attempt (or at once
 * when the API refuses the request itself, e.g. 400: sending it again cannot help).
 */
import type { DestinationConfig, RelayConfig } from './config';
import { DESTINATIONS, type HttpResult, type Outcome } from './destinations/index';
import { JsonText } from './destinations/util';
import type { Metrics } from './metrics';
import { exchange } from './sender';
import type { Delivery, Store } from './store';

/** One recent send, for the status view. */
export interface SendRecord {
  at: number;
  ok: boolean;
  events: number;
  error?: string;
}

/** The running delivery worker. */
export interface Worker {
  /** Runs a pass soon (after the current one, if one is running). */
  kick(): void;
  /** Runs one pass now and resolves when it is done (tests and the CLI use it). */
  runOnce(): Promise<void>;
  /** Stops polling, aborts sends in flight and hands their deliveries back. */
  stop(): Promise<void>;
  /** Per destination: counters (e.g. `repairs`) and the last sends. */
  stats(): Record<string, { counters: Record<string, number>; recent: SendRecord[] }>;
  /**
   * The lease end (epoch ms) under which an ingest may queue its deliveries already leased to this
   * worker and `offer` them; undefined when the worker holds enough in memory (they are queued unleased).
   */
  handOff?(): number | undefined;
  /**
   * Deliveries an ingest queued leased until `leaseUntil` (see `handOff`): sent from memory, not
   * read back from the store.
   */
  offer?(deliveries: Delivery[], leaseUntil: number): void;
  /** Drops the held deliveries whose event matches (an erased visitor's: the store deleted their rows). */
  forget?(matches: (stored: Delivery['stored']) => boolean): void;
}

/** Most deliveries the worker holds in memory from ingests; past it, new ones wait in the store's queue. */
export const HANDED_MAX = 10_000;

/**
 * How long deliveries from ingests may wait for more to fill a destination's batch: under load one
 * request (and one settle) carries several bodies' events instead of one each; idle, an event
 * leaves this much later. `runOnce()` sends at once.
 */
export const LINGER_MS = 20;

/** Delay before attempt `attempt + 1`: base·2^(attempt−1), capped, with "equal jitter" (half fixed, half random). */
export const backoff = (
  attempt: number,
  baseMs: number,
  maxMs: number,
  random = Math.random,
): number => {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
};

/** Longest wait a destination's `Retry-After` can impose: a broken or hostile answer cannot stall it for days. */
export const MAX_RETRY_AFTER_MS = 3_600_000;

/** `Retry-After` in ms (delay-seconds or an HTTP date), capped; undefined when absent or unreadable. */
export const parseRetryAfter = (value: string | null, now = Date.now()): number | undefined => {
  if (!value) return undefined;
  const text = value.trim();
  const ms = /^\d+$/.test(text)
    ? Number(text) * 1000
    : /[a-z]/i.test(text)
      ? Date.parse(text) - now
      : Number.NaN;
  return Number.isFinite(ms) ? Math.min(Math.max(0, Math.ceil(ms)), MAX_RETRY_AFTER_MS) : undefined;
};

/** A URL as errors may show it: scheme and host, no user, path or query (webhook URLs often hold a secret). */
export const originOf = (url: string): string => {
  try {
    const { protocol, host } = new URL(url);
    return `${protocol}//${host}`;
  } catch {
    return '(invalid URL)';
  }
};

/**
 * Removes secrets from an error before it is stored, shown or logged: each of `secrets` (and its
 * base64 form, as in Basic auth) becomes `***`, every URL keeps only its scheme and host, and what
 * follows `Bearer`/`Basic` or an `key=`/`token=`-like parameter is masked.
 */
export const redact = (text: string, secrets: string[] = []): string => {
  // URLs first: a secret URL (urlEnv) then still shows its host.
  let out = text.replace(
    /\b([a-z][a-z0-9+.-]*:\/\/)(?:[^\s/?#@"'<>]*@)?([^\s/?#"'<>]+)([^\s"'<>]*)/gi,
    (_url, scheme: string, host: string, rest: string) => {
      // Punctuation after a URL belongs to the sentence ("…/path: fetch failed").
      const tail = /[.,;:!?)\]]*$/.exec(rest || host)![0];
      return scheme + (rest ? host : host.slice(0, host.length - tail.length)) + tail;
    },
  );
  // Longest first, so a secret containing another is masked whole. Very short values are not secrets.
  for (const secret of [...new Set(secrets)]
    .filter((x) => x.length >= 4)
    .sort((a, b) => b.length - a.length)) {
    for (const form of [
      secret,
      Buffer.from(secret).toString('base64'),
      Buffer.from(secret + ':').toString('base64'),
      encodeURIComponent(secret),
    ])
      out = out.split(form).join('***');
  }
  return out
    .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 ***')
    .replace(
      /\b((?:api[_-]?key|token|secret|password|auth|key)["']?\s*[=:]\s*["']?)[^\s"'&,;]+/gi,
      '$1***',
    );
};

/**
 * POSTs JSON with a timeout; never throws. 4xx other than 408/429 is permanent: the same request
 * would fail again. Errors name the URL's scheme and host only, and never a header's value.
 */
export const postJson = async (
  url: string,
  headers: Record<string, string>,
  body: unknown,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<HttpResult> => {
  // The HTTP client would refuse such a header, and a request smuggled through one must never
  // leave: name it, never its value.
  const broken = Object.keys(headers).find((name) => /[\r\n\0]/.test(headers[name]));
  if (broken)
    return {
      ok: false,
      permanent: false,
      error:
        `header ${broken.slice(0, 64)} has a value with a line ` +
        `break or NUL (check the environment variable it comes from)`,
    };
  try {
    const target = new URL(url);
    if (target.protocol != 'http:' && target.protocol != 'https:')
      throw new Error(`unsupported protocol ${target.protocol}`);
    const payload = body instanceof JsonText ? body.text : JSON.stringify(body);
    const response = await exchange(target, headers, payload, timeoutMs, signal);
    const { status, text } = response;
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      // Not every API answers JSON; the status decides.
    }
    if (status >= 200 && status < 300) return { ok: true, status, permanent: false, json };
    const permanent = status >= 400 && status < 500 && status != 408 && status != 429;
    const retryAfterMs =
      status == 429 || status == 503 ? parseRetryAfter(response.retryAfter ?? null) : undefined;
    return {
      ok: false,
      status,
      permanent,
      json,
      error: `HTTP ${status} from ${originOf(url)}: ${text.slice(0, 300)}`,
      ...(retryAfterMs != undefined ? { retryAfterMs } : {}),
    };
  } catch (error) {
    const name = (error as Error).name;
    const message =
      name == 'TimeoutError'
        ? `timed out after ${timeoutMs} ms`
        : (error as Error).message +
          ((error as { cause?: Error }).cause
            ? ` (${(error as { cause: Error }).cause.message})`
            : '');
    return { ok: false, permanent: false, error: `${originOf(url)}: ${message}` };
  }
};

/**
 * Time kept, after a request's timeout, to record its answer before the lease runs out (a store
 * write, or a few for a module that records its outcomes after its last request).
 */
export const SETTLE_MARGIN_MS = 1_000;

/**
 * `post` that starts no request unless it can end (`timeoutMs`) and be recorded (`SETTLE_MARGIN_MS`)
 * before `leaseUntil`: once the lease runs out another relay may lease the same deliveries and send
 * them too. A request past that is not sent but `held`, so its deliveries are handed back for the
 * next round (leased afresh) with no attempt counted. The first request of a lease always goes, so a
 * lease shorter than one request still makes progress (docs/scaling-out.md).
 */
export const withinLease = (
  post: (url: string, headers: Record<string, string>, body: unknown) => Promise<HttpResult>,
  leaseUntil: number,
  timeoutMs: number,
  clock = Date.now,
): typeof post => {
  let started = false;
  return async (url, headers, body) => {
    if (started && clock() > leaseUntil - timeoutMs - SETTLE_MARGIN_MS)
      return {
        ok: false,
        permanent: false,
        held: true,
        error: `not sent: the lease ends at ${new Date(leaseUntil).toISOString()}, before its timeout`,
      };
    started = true;
    return post(url, headers, body);
  };
};

/** Starts the worker over every destination of every site. */
export function startWorker(
  store: Store,
  config: RelayConfig,
  options: { log?: (line: string) => void; metrics?: Metrics } = {},
): Worker {
  const destinations: DestinationConfig[] = Object.values(config.sites).flatMap(
    (site) => site.destinations,
  );
  const stats: Record<string, { counters: Record<string, number>; recent: SendRecord[] }> = {};
  for (const d of destinations) stats[d.key] = { counters: {}, recent: [] };
  const abort = new AbortController();
  let stopped = false;

  // Per destination: no request before this time (its last `Retry-After`); others are not held up.
  const pausedUntil = new Map<string, number>();
  const secretsOf = (d: DestinationConfig) => Object.values(d.secrets);

  const record = (d: DestinationConfig, o: Outcome) => {
    const recent = stats[d.key].recent;
    recent.push({ at: Date.now(), ok: o.ok, events: o.deliveries.length, error: o.error });
    if (recent.length > 20) recent.shift();
    if (!o.ok) options.log?.(`${d.key}: ${o.error}`);
  };

  // Deliveries queued by an ingest already leased to this worker, per destination, in arrival order:
  // sent without the lease query reading back what was just written (docs/relay-throughput.md).
  const handed = new Map<string, { delivery: Delivery; leaseUntil: number }[]>();
  let handedCount = 0;
  // Half its lease gone, a held delivery may see the lease run out mid-send: it is left to run out
  // and leased again from the store (not released: by then another process may have leased it).
  const fresh = (x: { leaseUntil: number }, now: number) => now < x.leaseUntil - config.leaseMs / 2;
  /** Up to `limit` held deliveries still fresh, and when the first of their leases runs out. */
  const takeHanded = (d: DestinationConfig, limit: number) => {
    const queue = handed.get(d.key);
    if (!queue?.length) return { deliveries: [], leaseUntil: 0 };
    const taken = queue.splice(0, limit);
    handedCount -= taken.length;
    const now = Date.now();
    const kept = taken.filter((x) => fresh(x, now));
    return {
      deliveries: kept.map((x) => x.delivery),
      leaseUntil: Math.min(...kept.map((x) => x.leaseUntil)),
    };
  };

  const apply = async (d: DestinationConfig, raw: Outcome) => {
    const now = Date.now();
    if (raw.held) {
      options.metrics?.delivery(d.key, 'held', raw.deliveries.length);
      return store.release(raw.deliveries.map((x) => x.id));
    }
    const o = raw.error ? { ...raw, error: redact(raw.error, secretsOf(d)).slice(0, 2000) } : raw;
    record(d, o);
    if (o.ok) {
      options.metrics?.delivery(d.key, 'delivered', o.deliveries.length);
      return store.markDelivered(
        o.deliveries.map((x) => x.id),
        now,
      );
    }
    const error = o.error ?? 'failed';
    const wait = o.retryAfterMs ?? 0;
    if (wait) pausedUntil.set(d.key, Math.max(pausedUntil.get(d.key) ?? 0, now + wait));
    const dead = o.deliveries.filter((x) => o.permanent || x.attempts + 1 >= d.attempts);
    const retry = o.deliveries.filter((x) => !dead.includes(x));
    options.metrics?.delivery(d.key, 'dead', dead.length);
    options.metrics?.delivery(d.key, 'retry', retry.length);
    if (dead.length)
      await store.deadLetter(
        dead.map((x) => x.id),
        error,
        now,
      );
    // Deliveries in one group share an attempt count in practice; schedule each by its own.
    for (const x of retry)
      await store.retryAt(
        [x.id],
        now + Math.max(wait, backoff(x.attempts + 1, d.backoffBaseMs, d.backoffMaxMs)),
        error,
        now,
      );
  };

  // When the loop wakes next at the latest because a batch lingers (see `lingers`); none: after pollMs.
  let lingerUntil: number | undefined;
  /**
   * True (and the next pass is set for when it has waited LINGER_MS) when `d`'s batch from ingests
   * is not full and its oldest waited less than LINGER_MS.
   */
  const lingers = (d: DestinationConfig, batch: number) => {
    const queue = handed.get(d.key);
    if (!queue?.length || queue.length >= batch) return false;
    const waited = Date.now() - (queue[0].leaseUntil - config.leaseMs);
    if (waited >= LINGER_MS) return false;
    lingerUntil = Math.min(lingerUntil ?? Infinity, Date.now() + LINGER_MS - waited);
    return true;
  };

  // Per destination while a pass drains it: the extra lanes running beside its first (see `lanes`).
  const draining = new Map<string, { helpers: Set<Promise<void>>; spawn: () => void }>();
  /** Starts extra lanes for a destination being drained while a full batch waits in memory. */
  const helpOut = (key: string) => draining.get(key)?.spawn();

  /** Sends what is due for one destination, a few leases per pass so no destination starves the others. */
  const drain = async (d: DestinationConfig, linger: boolean) => {
    const module = DESTINATIONS[d.type];
    const context = {
      config: d,
      // Once the destination said Retry-After, the rest of this lease is not sent (a module may
      // loop over many requests).
      post: async (
        url: string,
        headers: Record<string, string>,
        body: unknown,
      ): Promise<HttpResult> => {
        const until = pausedUntil.get(d.key) ?? 0;
        if (Date.now() < until)
          return {
            ok: false,
            permanent: false,
            held: true,
            error: `held by the destination's Retry-After until ${new Date(until).toISOString()}`,
          };
        const started = performance.now();
        const result = await postJson(url, headers, body, d.timeoutMs, abort.signal);
        options.metrics?.latency(d.key, (performance.now() - started) / 1000);
        if (result.retryAfterMs)
          pausedUntil.set(d.key, Math.max(until, Date.now() + result.retryAfterMs));
        return result;
      },
      getState: (visitor: string) => store.getState(d.key, visitor),
      setState: (visitor: string, value: unknown) => store.setState(d.key, visitor, value),
      count: (name: string, n: number) =>
        void (stats[d.key].counters[name] = (stats[d.key].counters[name] ?? 0) + n),
    };
    // Several batches in flight at once where the destination allows it (order and per-visitor
    // state do not matter to it): under load one round trip per batch would cap what it gets.
    // The first lane lingers and leases from the store; while it runs, another lane starts beside
    // it whenever a full batch from ingests waits, up to the destination's lanes.
    const batch = module.batchSize(d);
    const most = Math.max(1, module.lanes?.(d) ?? 1) - 1;
    const helpers = new Set<Promise<void>>();
    const spawn = () => {
      while (!stopped && helpers.size < most && (handed.get(d.key)?.length ?? 0) >= batch) {
        const helper: Promise<void> = lane(false).finally(() => helpers.delete(helper));
        helpers.add(helper);
      }
    };
    const lane = async (first: boolean) => {
      for (let round = 0; round < 10 && !stopped; round++) {
        const now = Date.now();
        if (now < (pausedUntil.get(d.key) ?? 0)) return;
        if (linger && first && lingers(d, module.batchSize(d))) return;
        const fromIngest = takeHanded(d, module.batchSize(d));
        const leaseUntil = fromIngest.deliveries.length
          ? fromIngest.leaseUntil
          : now + config.leaseMs;
        const leased =
          fromIngest.deliveries.length || !first
            ? fromIngest.deliveries
            : await store.lease(d.key, module.batchSize(d), now, leaseUntil);
        if (!leased.length) return;
        if (first) spawn();
        leased.sort((a, b) => a.stored.time - b.stored.time || a.id - b.id);
        // Outcomes a module settles as it goes (one request per event) are recorded at once: a crash
        // then sends again only the request in flight, not the lease's others already taken.
        const settled: Outcome[] = [];
        const settle = async (o: Outcome) => {
          if (stopped && !o.ok) return;
          settled.push(o);
          await apply(d, o);
        };
        const done = () => new Set(settled.flatMap((o) => o.deliveries.map((x) => x.id)));
        let outcomes: Outcome[];
        try {
          const post = withinLease(context.post, leaseUntil, d.timeoutMs);
          outcomes = await module.deliver(leased, { ...context, post, settle });
        } catch (error) {
          const open = leased.filter((x) => !done().has(x.id));
          outcomes = [
            { deliveries: open, ok: false, error: String((error as Error)?.message ?? error) },
          ];
        }
        // Stopping: what the destination took is recorded (sent again after a restart, it would
        // count twice where the API cannot dedupe); the rest is handed back as forgotten below.
        outcomes = outcomes.filter((o) => !settled.includes(o) && (o.ok || !stopped));
        for (const o of outcomes) await apply(d, o);
        // A module that forgot a delivery must not hide it until the lease runs out.
        const covered = done();
        for (const o of outcomes) for (const x of o.deliveries) covered.add(x.id);
        const forgotten = leased.filter((x) => !covered.has(x.id)).map((x) => x.id);
        if (forgotten.length) await store.release(forgotten);
      }
    };
    draining.set(d.key, { helpers, spawn });
    try {
      await lane(true);
      while (helpers.size) await Promise.all(helpers);
    } finally {
      draining.delete(d.key);
    }
  };

  // Each destination drains on its own: a destination whose requests hang (each up to its timeout)
  // must not hold up the others. A pass starts the drain of every destination not draining, and
  // asks one that is to drain again right after (once, however many passes ask).
  const running = new Map<string, Promise<void>>();
  const following = new Map<string, Promise<void>>();
  const drainAlone = (d: DestinationConfig, linger: boolean): Promise<void> => {
    const current = running.get(d.key);
    if (current) {
      // It has waited behind a drain already: no lingering.
      const next =
        following.get(d.key) ?? current.then(() => (following.delete(d.key), drainAlone(d, false)));
      following.set(d.key, next);
      return next;
    }
    const started = drain(d, linger)
      .catch((error) =>
        options.log?.(
          `${d.key}: ${redact(String((error as Error)?.message ?? error), secretsOf(d))}`,
        ),
      )
      .finally(() => running.delete(d.key));
    running.set(d.key, started);
    return started;
  };

  /** One pass over every destination; `linger`: batches from ingests may wait to fill. */
  const pass = (linger: boolean) =>
    Promise.all(destinations.map((d) => drainAlone(d, linger))).then(() => {});

  // The worker is one loop: it waits until a pass is asked for (a kick, runOnce) or the poll (or a
  // lingering batch) is due, runs that pass, and waits again. A pass asked for while one runs
  // follows it at once; asks that come together share one pass. A pass still running after pollMs
  // (a destination that hangs) is not waited for: the next pass drains the others.
  let asked: { linger: boolean; done: () => void; finished: Promise<void> } | undefined;
  let wake = () => {};
  const ask = (linger: boolean): Promise<void> => {
    if (!asked) {
      let done = () => {};
      const finished = new Promise<void>((resolve) => (done = resolve));
      asked = { linger, done, finished };
    }
    // An outside runOnce() sends what is held without lingering.
    if (!linger) asked.linger = false;
    wake();
    return asked.finished;
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  const loop = async () => {
    while (!stopped) {
      if (!asked)
        await sleep(
          lingerUntil == undefined
            ? config.pollMs
            : Math.max(0, Math.min(config.pollMs, lingerUntil - Date.now())),
        );
      if (stopped) break;
      const current = asked ?? { linger: true, done: () => {} };
      asked = undefined;
      lingerUntil = undefined;
      const passing = pass(current.linger);
      void passing.then(current.done);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        passing,
        new Promise((resolve) => (timer = setTimeout(resolve, config.pollMs))),
      ]);
      clearTimeout(timer);
    }
    asked?.done();
  };

  const kick = () => void (stopped || ask(true));
  const runOnce = (): Promise<void> => (stopped ? Promise.resolve() : ask(false));

  const looping = loop();
  return {
    kick,
    runOnce,
    async stop() {
      stopped = true;
      wake();
      abort.abort();
      await looping;
      // Drains the loop no longer waited for (a destination that hung) end once their sends are aborted.
      await Promise.all([...running.values(), ...following.values()]);
      // Held from ingests and not sent: handed back, so a restarted relay sends them at once.
      const now = Date.now();
      const unsent = [...handed.values()]
        .flat()
        .filter((x) => fresh(x, now))
        .map((x) => x.delivery.id);
      handed.clear();
      handedCount = 0;
      if (unsent.length)
        await store
          .release(unsent)
          .catch((error) =>
            options.log?.(
              `stopping: deliveries not handed back: ${(error as Error)?.message ?? error}`,
            ),
          );
    },
    stats: () => stats,
    handOff: () => (stopped || handedCount >= HANDED_MAX ? undefined : Date.now() + config.leaseMs),
    forget(matches) {
      for (const [key, queue] of handed) {
        const kept = queue.filter((x) => !matches(x.delivery.stored));
        handedCount -= queue.length - kept.length;
        handed.set(key, kept);
      }
    },
    offer(deliveries, leaseUntil) {
      const unknown: number[] = [];
      for (const delivery of deliveries) {
        const queue =
          handed.get(delivery.destination) ??
          (stats[delivery.destination] && !stopped
            ? handed.set(delivery.destination, []).get(delivery.destination)
            : undefined);
        if (!queue) unknown.push(delivery.id);
        else {
          queue.push({ delivery, leaseUntil });
          handedCount++;
        }
      }
      // Not this worker's to send (it is stopping, or the destination is not configured here): back to the store.
      if (unknown.length) void store.release(unknown).catch(() => {});
      for (const key of new Set(deliveries.map((x) => x.destination))) helpOut(key);
      kick();
    },
  };
}
