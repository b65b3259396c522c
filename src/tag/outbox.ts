/**
 * The first file's outbox: events stored in segments under the same keys and in the same format
 * as `core/segments.ts` (`tracklet:o:<key>` = `[beaconed,event,event…]`), so that either build
 * resends what the other left, with the same ids. Sent one tab at a time (a Web Lock), kept until
 * the collector confirms them, retried with backoff, and beaconed when the page goes away.
 */
import type { Config } from '../core/contract';
import type { TrackletEvent } from '../types';
import { log, warn } from '../core/log';
import { safe } from './safe';
import { parse, stringify } from './clean';
import { drop, stats } from '../core/stats';
import { beacon, byteLength, MAX_BODY, post, runs } from '../core/transport';
import { keys, read, remove, write } from './storage';
import { randomId } from './id';
import { listen, onStop, stopped } from './teardown';

/** A stored segment: its key, when it was beaconed (0: not yet), its events and its stored text. */
type Segment = [key: string, beaconed: number, events: TrackletEvent[], text: string];

export interface Outbox {
  add_(events: TrackletEvent[]): void;
  drain_(): Promise<unknown>;
  hide_(): void;
}

const SEGMENT = 'o:';
let sequence = 0;
/** Time, then a sequence number: keys sort by age. */
const segmentKey = (time: number) => SEGMENT + (time * 1000 + (sequence++ % 1000)).toString(36);
const encode = (beaconed: number, texts: string[]) => '[' + [beaconed, ...texts].join() + ']';

/** The body of a request: complete events (wire version 1) until the second file installs its encoder. */
const wire = (site: string, events: TrackletEvent[]) => ({
  v: 1,
  site,
  sentAt: Date.now(),
  events,
});

/** Milliseconds before retry `attempt`: doubling from 1 s to 5 minutes, half of it jitter. */
const backoff = (attempt: number, retryAfter = 0) =>
  Math.max(retryAfter, Math.min(300_000, 1000 * 2 ** attempt) * (1 - Math.random() / 2));

/** Taken (2xx), or refused for good (4xx but 408 and 429): no retry would change it. */
const isFinal = (status: number) => /^(2|4(?!08|29))..$/.test(status as never);

export const createOutbox = (config: Config): Outbox => {
  const { endpoint } = config;
  const start = Date.now();
  const before = segmentKey(start);
  /** Keys in flight from this page, and keys this page stored. */
  const flying = new Set<string>();
  const mine = new Set<string>();
  let attempt = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let queued: Promise<unknown> | undefined;
  const body = (events: TrackletEvent[]) => stringify((config.encode || wire)(config.site, events));
  // Measured on the plain format: an encoder (the second file's) may come before the outbox.
  const head = byteLength(stringify(wire(config.site, []))) + 16;

  /**
   * Every segment, oldest first, without expired events and, with `cap` (once sends failed), the
   * oldest events past the caps.
   */
  const load = (cap?: boolean): Segment[] => {
    const oldest = Date.now() - config.outboxMaxAge * 86_400_000;
    let roomEvents = config.outboxMaxEvents;
    let roomBytes = config.outboxMaxBytes;
    return keys(SEGMENT)
      .reverse()
      .flatMap((key): Segment[] => {
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
              // A stored `null` (written by other code) is dropped: a throw would stop every send.
              event?.timestamp > oldest &&
              !(cap && (--roomEvents < 0 || (roomBytes -= byteLength(stringify(event))) < 0)),
          )
          .reverse();
        if (kept.length < events.length) {
          drop(events.length - kept.length, DEBUG && 'expired or past the outbox cap');
          if (kept.length) write(key, (text = encode(beaconed, kept.map(stringify))));
        }
        if (kept.length) return [[key, beaconed, kept, text]];
        remove(key);
        return [];
      })
      .reverse();
  };

  /**
   * What this page sends, in bodies: its own segments and those stored before it started (a tab
   * opened later sends its own), that pass `filter`.
   */
  const bodies = (filter: (segment: Segment) => unknown) =>
    runs(
      load().filter(
        (segment) =>
          !flying.has(segment[0]) &&
          (mine.has(segment[0]) || segment[0] < before) &&
          filter(segment),
      ),
      (segment) => byteLength(segment[3]),
      head,
    ).map((group) => {
      const events = group.flatMap((segment) => segment[2]);
      return [group.map((segment) => segment[0]), events.length, body(events)] as const;
    });

  const schedule = (delay: number) => {
    clearTimeout(timer);
    // A stopped outbox starts no timer: what it stores waits for the next page.
    if (!(TEARDOWN && stopped(config))) timer = setTimeout(safe(drain), delay);
  };

  /** POSTs segments; resolves to true once they left the outbox (taken, or refused for good). */
  const send = (group: string[], count: number, text: string, zip?: boolean): Promise<boolean> => {
    if (DEBUG) stats.sent += count;
    if (DEBUG) log('send', count, 'event(s),', byteLength(text), 'bytes', stats);
    // In flight once handed to fetch: a page hidden while compressing beacons the events itself.
    const fly = (data: string | Blob) => (
      group.forEach((key) => flying.add(key)),
      post(endpoint, data)
    );
    return (zip && config.gzip ? config.gzip(text).then(fly) : fly(text)).then((response) => {
      const status = response ? response.status : 0;
      const final = isFinal(status);
      for (const key of group) {
        flying.delete(key);
        if (final) remove(key);
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
    // Under the lock, or refused it: the next drain asks for the lock again.
    queued = undefined;
    // A beacon sent before this page started may have been lost: it is resent (same ids).
    for (const [group, count, text] of bodies((segment) => segment[1] < start))
      // Caps apply from the second failure in a row: a one-off refusal drops nothing.
      if (!(await send(group, count, text, true))) return load(attempt > 1);
  };

  // One tab at a time where the browser has Web Locks (a tab's own drains wait their turn too;
  // calls while one waits share it). Without, `flying` keeps this tab from sending a body twice.
  // A refused lock (an opaque origin, a document not fully active, a page's own `locks`) sends
  // without it: kept, the refusal would stop every later send. A failure inside never reaches the
  // page as an unhandled rejection.
  const drain = (): Promise<unknown> =>
    (navigator.locks
      ? (queued ||= navigator.locks.request('tracklet', sendAll).catch(sendAll))
      : sendAll()
    ).catch(() => {});

  // What earlier pages left is retried soon; anything waiting, when the browser is back online.
  if (keys(SEGMENT).length) schedule(500);
  if (TEARDOWN) (listen(config, 'online', safe(drain)), onStop(config, () => clearTimeout(timer)));
  else addEventListener('online', safe(drain));

  return {
    add_: (events) => {
      const texts = events.map(stringify).filter((text) => byteLength(text) + head < MAX_BODY);
      if (texts.length < events.length) {
        drop(events.length - texts.length, DEBUG && 'over 32 KiB');
        warn('event over 32 KiB dropped');
      }
      for (const run of runs(texts, byteLength, head)) {
        // The random tail tells tabs apart within a millisecond.
        const key = segmentKey(Date.now()) + randomId().slice(17);
        mine.add(key);
        write(key, encode(0, run));
      }
    },
    drain_: drain,
    hide_: () => {
      for (const [group, count, text] of bodies((segment) => !segment[1])) {
        if (beacon(endpoint, config.zip ? config.zip(text) : text)) {
          for (const key of group) {
            const stored = read(key);
            if (stored) write(key, '[' + Date.now() + stored.slice(stored.indexOf(',')));
          }
          if (DEBUG) stats.sent += count;
          if (DEBUG) log('beacon', count, 'event(s),', byteLength(text), 'bytes', stats);
        } else send(group, count, text);
      }
    },
  };
};
