import type { Config } from './contract';
import type { TrackletEvent, WireBatch } from '../types';
import { lock } from './lease';
import { log, warn } from './log';
import { safe } from './safe';
import { parse, stringify } from './sanitize';
import { PREFIX, read, remove, write } from './storage';
import { beacon, byteLength, MAX_BODY, post, runs } from './transport';

/** Counters of the pipeline, shown with every debug log line (drops are counted in every build, the rest in debug). */
export const stats = { queued: 0, sent: 0, confirmed: 0, retries: 0, dropped: 0 };

/**
 * A segment of the outbox: events stored under a key of their own, written once by the tab that
 * tracked them and afterwards only marked as beaconed or removed. Tabs never rewrite each other's
 * lists, so no read-modify-write between tabs can lose an event.
 */
interface Segment {
  key_: string;
  /** When the events were handed to `sendBeacon` (0: not yet). */
  beaconed_: number;
  events_: TrackletEvent[];
  /** The stored text: `[beaconed,event,event…]`. */
  text_: string;
}

/** Storage keys of segments: `tracklet:o:<time><sequence><random>`, so sorting them sorts by age. */
const SEGMENT = 'o:';

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
export const wireBatch = (site: string, events: TrackletEvent[], sentAt = Date.now()): WireBatch => {
  const [first, ...rest] = events as unknown as Record<string, unknown>[];
  const common: Record<string, unknown> = {};
  if (rest.length)
    for (const field in first) {
      const value = first[field];
      if ((value === null || typeof value != 'object') && rest.every((event) => event[field] === value)) common[field] = value;
    }
  const shared = Object.keys(common);
  const batch: WireBatch = { v: 2, site, sentAt, events };
  if (shared.length) {
    batch.common = common;
    batch.events = events.map((event) => {
      const own: Record<string, unknown> = {};
      for (const field in event) if (!shared.includes(field)) own[field] = event[field as keyof TrackletEvent];
      return own;
    });
  }
  return batch;
};

/** Counts dropped events and says why in debug mode. */
const drop = (count: number, why: string | false) => {
  stats.dropped += count;
  if (DEBUG) log('dropped', count, 'event(s):', why, stats);
};

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
export const createOutbox = ({ endpoint, site, outboxMaxEvents, outboxMaxBytes, outboxMaxAge }: Config): Outbox => {
  const start = Date.now();
  /** Keys being sent by this page. */
  const flying = new Set<string>();
  /** Keys this page stored. */
  const mine = new Set<string>();
  /** Keys storage refused (quota, blocked, persistence off): they live in this page's memory. */
  const local = new Set<string>();
  let sequence = 0;
  const key = (time: number) => SEGMENT + (time * 1000 + (sequence++ % 1000)).toString(36);
  const before = key(start);
  /**
   * What this page sends: its own segments, and those stored before it started (by earlier pages,
   * or tabs open then). Segments of tabs that stored them later are theirs to send: localStorage
   * reaches other tabs with a delay, so a tab could still see a segment another one just confirmed.
   */
  const ours = (segment: Segment) => !flying.has(segment.key_) && (mine.has(segment.key_) || segment.key_ < before);
  let attempt = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let tail: Promise<unknown> = Promise.resolve();
  let queued: Promise<unknown> | undefined;

  // A segment's stored text bounds its events' share of a body.
  const bytes = (segment: Segment) => byteLength(segment.text_);
  const body = (events: TrackletEvent[]) => stringify(wireBatch(site, events));
  /** The stored segments this page sends that pass `filter`, in bodies: [segments, their event count, body]. */
  const bodies = (filter: (segment: Segment) => boolean) =>
    runs(load().filter((segment) => ours(segment) && filter(segment)), bytes, head).map((group) => {
      const events = group.flatMap((segment) => segment.events_);
      return [group, events.length, body(events)] as const;
    });
  // Sized as complete (version 1) events: the shared fields only ever make a body shorter, but for
  // the few bytes of `"common":{}` around them.
  const head = byteLength(body([])) + 16;

  /** Stores a segment's text, `[beaconed,event,event…]` (built from strings: each event is serialised once). */
  const save = (key: string, text: string) => {
    if (!write(key, text)) local.add(key);
  };
  const forget = (key: string) => {
    remove(key);
    local.delete(key);
  };

  const keys = () => {
    let stored: string[] = [];
    try {
      stored = Object.keys(localStorage);
    } catch {
      // Storage blocked: only this page's segments exist.
    }
    const all = new Set(local);
    for (const key of stored) if (key.startsWith(PREFIX + SEGMENT)) all.add(key.slice(PREFIX.length));
    return [...all].sort();
  };

  /**
   * Reads every segment, oldest first, dropping expired events and, with `cap`, the oldest events
   * past the caps. The caps apply once sends failed: a burst being sent may briefly exceed them.
   */
  const load = (cap?: boolean): Segment[] => {
    const now = Date.now();
    const segments: Segment[] = [];
    let count = 0;
    let bytes = 0;
    for (const key of keys().reverse()) {
      let text = read(key)!;
      let beaconed = 0;
      let events: TrackletEvent[] = [];
      try {
        [beaconed, ...events] = parse(text);
      } catch {
        // Missing (another tab confirmed it) or unreadable: nothing to send.
      }
      const kept = events
        .reverse()
        .filter(
          (event) =>
            now - event.timestamp < outboxMaxAge * 86_400_000 &&
            (!cap || (++count <= outboxMaxEvents && (bytes += byteLength(stringify(event))) <= outboxMaxBytes)),
        )
        .reverse();
      if (kept.length < events.length) {
        drop(events.length - kept.length, DEBUG && 'expired or past the outbox cap');
        text = '[' + beaconed + ',' + stringify(kept).slice(1);
        if (kept.length) save(key, text);
      }
      if (kept.length) segments.unshift({ key_: key, beaconed_: beaconed, events_: kept, text_: text });
      else forget(key);
    }
    return segments;
  };

  const schedule = (delay: number) => {
    clearTimeout(timer);
    // A stopped outbox starts no timer: what it holds waits for the next page.
    if (!(TEARDOWN && stopped)) timer = setTimeout(safe(drain), delay);
  };

  /** POSTs segments; true once the collector has taken them (2xx) or refused them for good. */
  const send = (segments: Segment[], count: number, text: string): Promise<boolean> => {
    for (const segment of segments) flying.add(segment.key_);
    if (DEBUG) stats.sent += count;
    if (DEBUG) log('send', count, 'event(s),', byteLength(text), 'bytes', stats);
    return post(endpoint, text).then((response) => {
      for (const segment of segments) flying.delete(segment.key_);
      const status = response ? response.status : 0;
      // 4xx other than 408 (timeout) and 429 (rate limit): this batch will never be accepted.
      const done = (status > 199 && status < 300) || (status > 399 && status < 500 && status != 408 && status != 429);
      if (done) {
        for (const segment of segments) forget(segment.key_);
        attempt = 0;
        if (status > 299) drop(count, DEBUG && 'collector answered ' + status);
        else if (DEBUG) {
          stats.confirmed += count;
          log('confirmed', count, 'event(s)', stats);
        }
      } else {
        // Retry-After in seconds (readable cross-origin only if the collector exposes it).
        const delay = backoff(attempt++, 1000 * +(response ? response.headers.get('Retry-After')! : 0) || 0);
        if (DEBUG) stats.retries++;
        if (DEBUG) log('retry in', Math.round(delay), 'ms after', status || 'a network error', stats);
        schedule(delay);
      }
      return !!done;
    });
  };

  const sendAll = async () => {
    // Rounds pick up what other calls stored meanwhile; bounded so that a busy page cannot spin.
    for (let round = 0; round < 9; round++) {
      // A beacon sent before this page started may have been lost: it is resent (same ids).
      const ready = bodies((segment) => segment.beaconed_ < start);
      if (!ready.length) return;
      for (const [group, count, text] of ready)
        // Caps apply from the second failure in a row: a one-off refusal (keepalive quota) drops nothing.
        if (!(await send(group, count, text))) return load(attempt > 1);
    }
  };

  const drain = () =>
    queued ||
    (queued = tail = tail.then(() => {
      queued = undefined;
      // Another tab holds the lease: it sends what it finds; look again in a while.
      return lock(sendAll).then((ran) => ran || schedule(backoff(0)));
    }));

  // Retry on the next page load (what earlier pages left) and when the browser is back online.
  if (keys().length) schedule(500);
  const online = safe(drain);
  addEventListener('online', online);

  const outbox: Outbox = {
    add: (events) => {
      // Each event is serialised once: its text is both measured and stored.
      const texts = events.map(stringify).filter((text) => byteLength(text) + head < MAX_BODY);
      if (texts.length < events.length) {
        drop(events.length - texts.length, DEBUG && 'over 32 KiB');
        warn('event over 32 KiB dropped');
      }
      for (const run of runs(texts, byteLength, head)) {
        // Time, then sequence: keys sort by age. The random tail tells tabs apart within a millisecond.
        const name = key(Date.now()) + Math.random().toString(36).slice(2, 6);
        mine.add(name);
        save(name, '[0,' + run.join() + ']');
      }
    },
    drain,
    hide: () => {
      for (const [group, count, text] of bodies((segment) => !segment.beaconed_)) {
        if (beacon(endpoint, text)) {
          const now = Date.now();
          for (const segment of group) save(segment.key_, '[' + now + segment.text_.slice(segment.text_.indexOf(',')));
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
