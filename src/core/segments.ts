/**
 * What the outbox stores: segments of events, each under a key of its own in localStorage (in this
 * page's memory where storage refuses it). A segment is written once by the tab that tracked its
 * events and afterwards only marked as beaconed or removed. Tabs never rewrite each other's lists,
 * so no read-modify-write between tabs can lose an event.
 */
import type { Config } from './contract';
import type { TrackletEvent } from '../types';
import { parse, stringify } from './sanitize';
import { drop } from './stats';
import { keys, read, remove, write } from './storage';
import { byteLength } from './transport';

export interface Segment {
  key_: string;
  /** When the events were handed to `sendBeacon` (0: not yet). */
  beaconed_: number;
  events_: TrackletEvent[];
  /** The stored text (see `encode`). */
  text_: string;
}

/** Storage keys of segments: `tracklet:o:<time><sequence><random>`, so sorting them sorts by age. */
const SEGMENT = 'o:';

/** A segment's stored text, `[beaconed,event,event…]`, from its events' texts (each serialised once). */
export const encode = (beaconed: number, texts: string[]): string =>
  '[' + [beaconed, ...texts].join() + ']';

/** The same stored text marked as beaconed at `time`: its events are not parsed or serialised again. */
export const markBeaconed = (text: string, time: number): string =>
  '[' + time + text.slice(text.indexOf(','));

let sequence = 0;

/** A new segment key for a time: time, then a sequence number, so that keys sort by age. */
export const segmentKey = (time: number): string =>
  SEGMENT + (time * 1000 + (sequence++ % 1000)).toString(36);

/**
 * Stores a segment's text (in this page's memory when storage refuses it: `keys` lists it there).
 */
export const saveSegment = write;

export const forgetSegment = remove;

/** Every segment key, oldest first. */
export const segmentKeys = (): string[] => keys(SEGMENT);

/**
 * Reads every segment, oldest first, dropping expired events and, with `cap`, the oldest events
 * past the caps. The caps apply once sends failed: a burst being sent may briefly exceed them.
 */
export const loadSegments = (
  { outboxMaxEvents, outboxMaxBytes, outboxMaxAge }: Config,
  cap?: boolean,
): Segment[] => {
  const oldest = Date.now() - outboxMaxAge * 86_400_000;
  // What the caps still leave room for, counted from the newest event back.
  let roomEvents = outboxMaxEvents;
  let roomBytes = outboxMaxBytes;
  return segmentKeys()
    .reverse()
    .flatMap((key) => {
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
            event.timestamp > oldest &&
            !(cap && (--roomEvents < 0 || (roomBytes -= byteLength(stringify(event))) < 0)),
        )
        .reverse();
      if (kept.length < events.length) {
        drop(events.length - kept.length, DEBUG && 'expired or past the outbox cap');
        if (kept.length) saveSegment(key, (text = encode(beaconed, kept.map(stringify))));
      }
      if (kept.length) return [{ key_: key, beaconed_: beaconed, events_: kept, text_: text }];
      forgetSegment(key);
      return [];
    })
    .reverse();
};
