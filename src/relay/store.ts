/**
 * What the relay keeps: received events and a durable per-destination delivery queue. Every
 * method returns a Promise so a server database (PostgreSQL: leases with SELECT … FOR UPDATE SKIP
 * LOCKED) can replace the embedded SQLite store without touching the handler or the worker.
 */
import type { TrackletEvent } from '../types';

/** An event as received, enriched by the relay. */
export interface StoredEvent {
  site: string;
  event: TrackletEvent;
  /** Epoch ms when the relay received it. */
  receivedAt: number;
  /** `event.timestamp` corrected for the visitor's clock skew (`receivedAt - sentAt`). */
  time: number;
  /** How far the visitor's clock was behind (+) or ahead (−) of the relay's, in ms. */
  skewMs: number;
  /** Client IP (proxy headers only from trusted proxies), as `storeIp` keeps it: full, truncated or none. */
  ip?: string;
  /**
   * The full client IP when `storeIp` keeps less, for the destinations that need it: kept with the
   * queued deliveries only, until they are sent or dead-lettered, never with the stored event.
   */
  sendIp?: string;
  userAgent?: string;
  /** The user agent looks like a crawler or automation. */
  bot: boolean;
  origin?: string;
}

/** One event waiting for (or done with) one destination. */
export interface Delivery {
  id: number;
  destination: string;
  attempts: number;
  status: 'queued' | 'delivered' | 'dead';
  lastError?: string;
  updatedAt: number;
  stored: StoredEvent;
}

/** An event refused at ingest, kept with the reason for operators (`/status`, `tracklet-relay rejected`). */
export interface RejectedEvent {
  /** Assigned by the store. */
  id?: number;
  site: string;
  /** Epoch ms when the relay received it. */
  receivedAt: number;
  /** Its place in the body's `events`. */
  index: number;
  /** The refused field, dotted within the event (`properties.a`), or `(event)`. */
  field: string;
  reason: string;
  /** The event as sent, JSON, cut to `REJECTED_RAW_MAX` characters. */
  raw: string;
  ip?: string;
}

/** Longest raw event a store keeps for a refused event: enough to see what was wrong, bounded. */
export const REJECTED_RAW_MAX = 4096;

/** Counts of one destination's queue; `retrying` are queued ones that failed at least once. */
export interface DestinationCounts {
  destination: string;
  queued: number;
  retrying: number;
  delivered: number;
  dead: number;
  lastError?: string;
  lastErrorAt?: number;
  lastDeliveredAt?: number;
}

/**
 * What retention removes, each by its own age: stored events (never one still queued or
 * dead-lettered for a destination), delivered and dead deliveries, per-visitor destination state,
 * refused events.
 */
export type PruneKind = 'events' | 'delivered' | 'deadLetters' | 'visitorState' | 'rejected';

/** A visitor to erase: by anonymous id, or by user id (then also every anonymous id seen with it). */
export interface EraseRequest {
  anonymousId?: string;
  userId?: string;
}

/** What an erasure removed, and the ids now suppressed at ingest. */
export interface Erased {
  events: number;
  deliveries: number;
  visitorState: number;
  rejected: number;
  suppressed: { anonymousIds: string[]; userIds: string[] };
}

/** The storage the relay needs; SQLite by default (sqlite.ts). */
export interface Store {
  /**
   * Stores events, skipping any whose (site, id) is already stored, and in the same transaction
   * queues each new one for the destinations `route` names. Returns the new events.
   *
   * With `leaseUntil`, a store may queue the deliveries already leased until then and return them
   * as `leased`, so this process's worker sends them from memory without reading them back (see
   * docs/relay-throughput.md). A store that does not returns no `leased`; the worker then leases them.
   */
  insertEvents(
    events: StoredEvent[],
    route: (stored: StoredEvent) => string[],
    options?: { leaseUntil?: number },
  ): Promise<{ inserted: StoredEvent[]; duplicates: number; leased?: Delivery[] }>;
  /** Queues stored events for a destination (ignored where already queued). */
  enqueue(
    destination: string,
    events: { site: string; id: string }[],
    now: number,
  ): Promise<number>;
  /** Takes up to `limit` due deliveries of a destination, oldest first, hidden from others until `leaseUntil`. */
  lease(destination: string, limit: number, now: number, leaseUntil: number): Promise<Delivery[]>;
  markDelivered(ids: number[], now: number): Promise<void>;
  /** Gives leased deliveries back untouched (the relay is stopping mid-send). */
  release(ids: number[]): Promise<void>;
  /** Counts a failed attempt and makes the deliveries due again at `at`. */
  retryAt(ids: number[], at: number, error: string, now: number): Promise<void>;
  /** Counts a failed attempt and gives up: the deliveries become dead letters. */
  deadLetter(ids: number[], error: string, now: number): Promise<void>;
  /** Per-visitor destination state (e.g. Tracardi's profile id). */
  getState(destination: string, visitor: string): Promise<unknown>;
  setState(destination: string, visitor: string, value: unknown): Promise<void>;
  status(): Promise<DestinationCounts[]>;
  /** Per destination, when its oldest queued delivery is (or was) due, epoch ms. */
  oldestDue?(): Promise<{ destination: string; at: number }[]>;
  deadLetters(destination?: string, limit?: number): Promise<Delivery[]>;
  /** Makes dead letters (all of a destination's, or these ids) due now with a fresh attempt count. */
  requeue(destination: string | undefined, ids: number[] | undefined, now: number): Promise<number>;
  /** Keeps events refused at ingest, each with its reason (raw JSON already cut to `REJECTED_RAW_MAX`). */
  insertRejected(rejected: RejectedEvent[]): Promise<void>;
  /** Refused events, newest last. */
  rejected(limit?: number): Promise<RejectedEvent[]>;
  countRejected(): Promise<number>;
  /** Deletes up to `limit` rows of `kind` last changed before `before` (epoch ms); returns how many. */
  prune(kind: PruneKind, before: number, limit: number): Promise<number>;
  /**
   * Deletes what the store holds of a visitor and suppresses their ids, so later events of them are
   * dropped at ingest.
   */
  erase(who: EraseRequest, now: number): Promise<Erased>;
  /** The suppressed ids (erased visitors). */
  suppressed(): Promise<{ anonymousIds: string[]; userIds: string[] }>;
  /** Resolves when the store answers a trivial query (readiness). */
  ping(): Promise<void>;
  /** Stored events, newest last. */
  events(limit?: number): Promise<StoredEvent[]>;
  countEvents(): Promise<number>;
  close(): Promise<void>;
}
