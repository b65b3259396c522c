/**
 * What the outbox sends: bodies of stored segments (`segments.ts`), one tab at a time, kept until
 * the collector confirms them, retried with backoff otherwise, and beaconed when the page goes away.
 */
import type { Config } from './contract';
import type { TrackletEvent, WireBatch } from '../types';
import { lock } from './lease';
import { log, warn } from './log';
import { safe } from './safe';
import { stringify } from './sanitize';
import {
  encode,
  forgetSegment,
  loadSegments,
  markBeaconed,
  saveSegment,
  segmentKey,
  segmentKeys,
  type Segment,
} from './segments';
import { drop, stats } from './stats';
import { beacon, byteLength, MAX_BODY, post, runs } from './transport';

export { stats };

/**
 * Milliseconds before retry number `attempt` (0-based): doubling from 1 s up to 5 minutes, of which
 * a random half is jitter (so that tabs and visitors do not retry in step), at least `retryAfter`.
 */
export const backoff = (attempt: number, retryAfter = 0, random = Math.random): number =>
  Math.max(retryAfter, Math.min(300_000, 1000 * 2 ** attempt) * (1 - random() / 2));

/**
 * The body of a request (wire version 2): top-level fields that every event has with the same
 * primitive value (ids, user id, URL, path…) go once in `common`, and each event carries the rest.
 * A collector rebuilds event i as `{ ...common, ...events[i] }`. A body of one event has no `common`.
 */
export const wireBatch = (
  site: string,
  events: TrackletEvent[],
  sentAt = Date.now(),
): WireBatch => {
  const [first, ...rest] = events as unknown as Record<string, unknown>[];
  const common: Record<string, unknown> = {};
  if (rest.length)
    for (const field in first) {
      const value = first[field];
      if (
        (value === null || typeof value != 'object') &&
        rest.every((event) => event[field] === value)
      )
        common[field] = value;
    }
  if (!Object.keys(common).length) return { v: 2, site, sentAt, events };
  const own = (event: TrackletEvent) => {
    const fields: Record<string, unknown> = { ...event };
    for (const field in common) delete fields[field];
    return fields as unknown as TrackletEvent;
  };
  return { v: 2, site, sentAt, common, events: events.map(own) };
};

/**
 * Whether an answer settles a batch: taken (2xx), or refused with a 4xx other than 408 (timeout)
 * and 429 (rate limit), which no retry would change. Anything else (and no answer) is retried.
 */
export const isFinal = (status: number): boolean =>
  (status > 199 && status < 300) ||
  (status > 399 && status < 500 && status != 408 && status != 429);

export interface Outbox {
  /** Stores events until the collector confirms them. */
  add(events: TrackletEvent[]): void;
  /** Sends what is waiting, one tab at a time; resolves when done (sent, or a retry is scheduled). */
  drain(): Promise<unknown>;
  /** The page is going away: beacon what is not in flight, and mark it so that the next page resends it. */
  hide(): void;
  /** Removes the outbox's listener and timer; what it stores waits for the next page (TEARDOWN builds). */
  stop?(): void;
}

/**
 * The outbox in localStorage (memory where storage is off or throws), shared by the site's tabs.
 * Events leave it only on a 2xx answer, or a 4xx other than 408/429 (a bad batch, dropped).
 */
export const createOutbox = (config: Config): Outbox => {
  const { endpoint, site } = config;
  const start = Date.now();
  /** Keys being sent by this page. */
  const flying = new Set<string>();
  /** Keys this page stored. */
  const mine = new Set<string>();
  const before = segmentKey(start);
  /**
   * What this page sends: its own segments, and those stored before it started (by earlier pages,
   * or tabs open then). Segments of tabs that stored them later are theirs to send: localStorage
   * reaches other tabs with a delay, so a tab could still see a segment another one just confirmed.
   */
  const ours = (segment: Segment) =>
    !flying.has(segment.key_) && (mine.has(segment.key_) || segment.key_ < before);
  let attempt = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Set by stop() (TEARDOWN builds only).
  let stopped: boolean | undefined;
  let tail: Promise<unknown> = Promise.resolve();
  let queued: Promise<unknown> | undefined;

  // A segment's stored text bounds its events' share of a body.
  const bytes = (segment: Segment) => byteLength(segment.text_);
  // Version 2 until the script tag's second file installs the compact encoder (core/encode.ts).
  const body = (events: TrackletEvent[]) => stringify((config.encode || wireBatch)(site, events));
  /** The stored segments this page sends that pass `filter`, in bodies: [segments, their event count, body]. */
  const bodies = (filter: (segment: Segment) => boolean) =>
    runs(
      loadSegments(config).filter((segment) => ours(segment) && filter(segment)),
      bytes,
      head,
    ).map((group) => {
      const events = group.flatMap((segment) => segment.events_);
      return [group, events.length, body(events)] as const;
    });
  // Sized as complete (version 1) events: the shared fields only ever make a body shorter, but for
  // the few bytes of `"common":{}` around them.
  const head = byteLength(body([])) + 16;

  const schedule = (delay: number) => {
    clearTimeout(timer);
    // A stopped outbox starts no timer: what it holds waits for the next page.
    if (!(TEARDOWN && stopped)) timer = setTimeout(safe(drain), delay);
  };

  /**
   * POSTs segments. Resolves to true once the collector took them (2xx) or refused them for good:
   * they leave the outbox. Otherwise they stay, for another try after a backoff, and no sooner than
   * the collector's Retry-After (seconds; readable cross-origin only if the collector exposes it).
   */
  const send = (
    segments: Segment[],
    count: number,
    text: string,
    zip?: boolean,
  ): Promise<boolean> => {
    if (DEBUG) stats.sent += count;
    if (DEBUG) log('send', count, 'event(s),', byteLength(text), 'bytes', stats);
    const keys = segments.map((segment) => segment.key_);
    /** In flight once handed to fetch: a page hidden while compressing beacons the events itself. */
    const fly = (data: string | Blob) => {
      for (const key of keys) flying.add(key);
      return post(endpoint, data);
    };
    // Compressing is asynchronous: never for the requests of a page going away.
    return (zip && config.gzip ? config.gzip(text).then(fly) : fly(text)).then((response) => {
      const status = response ? response.status : 0;
      const final = isFinal(status);
      for (const key of keys) {
        flying.delete(key);
        if (final) forgetSegment(key);
      }
      if (final) {
        attempt = 0;
        if (status > 299) drop(count, DEBUG && 'collector answered ' + status);
        else if (DEBUG) {
          stats.confirmed += count;
          log('confirmed', count, 'event(s)', stats);
        }
      } else {
        const delay = backoff(attempt++, 1000 * +response?.headers.get('Retry-After')! || 0);
        if (DEBUG) {
          stats.retries++;
          log('retry in', Math.round(delay), 'ms after', status || 'a network error', stats);
        }
        schedule(delay);
      }
      return final;
    });
  };

  const sendAll = async () => {
    // What is stored while this sends waits for its own flush (batch full, interval, hide): events
    // tracked meanwhile then share one body rather than leaving in a request each.
    // A beacon sent before this page started may have been lost: it is resent (same ids).
    for (const [group, count, text] of bodies((segment) => segment.beaconed_ < start))
      // Caps apply from the second failure in a row: a one-off refusal (keepalive quota) drops nothing.
      if (!(await send(group, count, text, true))) return loadSegments(config, attempt > 1);
  };

  const drain = () =>
    queued ||
    (queued = tail =
      tail.then(() => {
        queued = undefined;
        // Another tab holds the lease: it sends what it finds; look again in a while.
        return lock(sendAll).then((ran) => ran || schedule(backoff(0)));
      }));

  // Retry on the next page load (what earlier pages left) and when the browser is back online.
  if (segmentKeys().length) schedule(500);
  const online = safe(drain);
  addEventListener('online', online);

  const outbox: Outbox = {
    add: (events) => {
      // Each event is serialised once, and sized by a native scan (ASCII: its length).
      const texts = events.map(stringify).filter((text) => byteLength(text) + head < MAX_BODY);
      if (texts.length < events.length) {
        drop(events.length - texts.length, DEBUG && 'over 32 KiB');
        warn('event over 32 KiB dropped');
      }
      for (const run of runs(texts, byteLength, head)) {
        // Time, then sequence: keys sort by age. The random tail tells tabs apart within a millisecond.
        const name = segmentKey(Date.now()) + Math.random().toString(36).slice(2, 6);
        mine.add(name);
        saveSegment(name, encode(0, run));
      }
    },
    drain,
    hide: () => {
      for (const [group, count, text] of bodies((segment) => !segment.beaconed_)) {
        if (beacon(endpoint, config.zip ? config.zip(text) : text)) {
          for (const segment of group)
            saveSegment(segment.key_, markBeaconed(segment.text_, Date.now()));
          if (DEBUG) stats.sent += count;
          if (DEBUG) log('beacon', count, 'event(s),', byteLength(text), 'bytes', stats);
        } else send(group, count, text);
      }
    },
  };
  if (TEARDOWN)
    outbox.stop = () => {
      stopped = true;
      clearTimeout(timer);
      removeEventListener('online', online);
    };
  return outbox;
};
