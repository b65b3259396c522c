/** What every destination module provides, and what the delivery worker gives it. */
import type { DestinationConfig } from '../config';
import type { Delivery, StoredEvent } from '../store';

/** How one group of deliveries went: delivered, or failed (permanently: no retry helps, e.g. a 400). */
export interface Outcome {
  deliveries: Delivery[];
  ok: boolean;
  error?: string;
  permanent?: boolean;
  /** The destination asked to wait this long before the next request (its `Retry-After`). */
  retryAfterMs?: number;
  /** Not sent: the destination's `Retry-After` holds it. The deliveries are handed back, no attempt counted. */
  held?: boolean;
}

/** The config `type` of each destination module. */
export type DestinationType = DestinationConfig['type'];

/** The config of the destinations of one `type`. */
export type ConfigOf<K extends DestinationType> = Extract<DestinationConfig, { type: K }>;

/** The worker's services for a destination with config `T`. */
export interface DestinationContext<T extends DestinationConfig = DestinationConfig> {
  config: T;
  /** POSTs with the destination's timeout; never throws. */
  post(url: string, headers: Record<string, string>, body: unknown): Promise<HttpResult>;
  getState(visitor: string): Promise<unknown>;
  setState(visitor: string, value: unknown): Promise<void>;
  /** Adds to a named counter shown in the status view (e.g. Growlytics attribute repairs). */
  count(name: string, n: number): void;
  /**
   * Records one group's outcome now, before `deliver` returns (it need not be returned again): a
   * module sending one request per event settles each, so that a crash resends only the one in flight.
   */
  settle?(outcome: Outcome): Promise<void>;
}

/** How a POST went; `permanent` when sending the same request again cannot succeed. */
export interface HttpResult {
  ok: boolean;
  status?: number;
  error?: string;
  permanent: boolean;
  json?: unknown;
  /** `Retry-After` of a 429 or 503, in ms. */
  retryAfterMs?: number;
  /** Not sent: an earlier `Retry-After` of this destination has not run out. */
  held?: boolean;
}

/**
 * A destination typed by its own config `T`: which events it takes, how many per lease, and how it
 * sends them. The registry (destinations/index.ts) pairs each module with its config `type`, so a
 * module never checks `config.type` itself.
 */
export interface Destination<T extends DestinationConfig = DestinationConfig> {
  /** Events it never takes are not queued for it (docs/relay.md says what each skips). */
  accepts(stored: StoredEvent, config: T): boolean;
  /** Most deliveries handed to `deliver` at once. */
  batchSize(config: T): number;
  /**
   * How many batches may be in flight at once (default 1). More only where the API takes events in
   * any order and the module keeps no per-visitor state between batches.
   */
  lanes?(config: T): number;
  /** Sends deliveries (oldest first) and reports how each group went. */
  deliver(deliveries: Delivery[], context: DestinationContext<T>): Promise<Outcome[]>;
}
