/**
 * What both stores (sqlite.ts, postgres.ts) make of the rows they read: deliveries, the status
 * view, refused events and the suppression list. The tables have the same columns in both.
 */
import type { Delivery, DestinationCounts, RejectedEvent, StoredEvent } from './store';

/** The delivery columns a lease or a dead-letter listing reads: `d` the delivery, `e` its event. */
export const DELIVERY_COLUMNS =
  'd.id, d.destination, d.attempts, d.status, d.last_error, d.updated_at, d.ip, e.data';

/** A row of DELIVERY_COLUMNS; `data` is JSON text (SQLite) or already parsed (PostgreSQL). */
export type DeliveryRow = {
  id: number;
  destination: string;
  attempts: number;
  status: Delivery['status'];
  last_error: string | null;
  updated_at: number;
  ip: string | null;
  data: string | StoredEvent;
};

/** A delivery as the worker gets it. */
export const toDelivery = (row: DeliveryRow): Delivery => {
  const stored: StoredEvent = typeof row.data == 'string' ? JSON.parse(row.data) : row.data;
  return {
    id: row.id,
    destination: row.destination,
    attempts: row.attempts,
    status: row.status,
    lastError: row.last_error ?? undefined,
    updatedAt: row.updated_at,
    // The full IP rides with the queued delivery (storeIp), over the stored event's truncated one.
    stored: row.ip ? { ...stored, ip: row.ip } : stored,
  };
};

/** Counts of one destination's deliveries by status. */
export type CountRow = Pick<
  DestinationCounts,
  'destination' | 'queued' | 'retrying' | 'delivered' | 'dead'
>;

/** A row of `destination_log`. */
export type LogRow = {
  destination: string;
  last_error: string | null;
  last_error_at: number | null;
  last_delivered_at: number | null;
};

/** The status view: each destination's counts with its last error and delivery, by name. */
export const mergeStatus = (counts: CountRow[], logs: LogRow[]): DestinationCounts[] => {
  const byName = new Map<string, DestinationCounts>(counts.map((r) => [r.destination, { ...r }]));
  for (const log of logs) {
    const entry: DestinationCounts = byName.get(log.destination) ?? {
      destination: log.destination,
      queued: 0,
      retrying: 0,
      delivered: 0,
      dead: 0,
    };
    if (log.last_error != null)
      Object.assign(entry, { lastError: log.last_error, lastErrorAt: log.last_error_at });
    if (log.last_delivered_at != null) entry.lastDeliveredAt = log.last_delivered_at;
    byName.set(log.destination, entry);
  }
  return [...byName.values()].sort((a, b) => a.destination.localeCompare(b.destination));
};

/** A row of `rejected_events`. */
export type RejectedRow = {
  id: number;
  site: string;
  received_at: number;
  idx: number;
  field: string;
  reason: string;
  raw: string;
  ip: string | null;
};

/** A refused event as the operator sees it. */
export const toRejected = (r: RejectedRow): RejectedEvent => ({
  id: r.id,
  site: r.site,
  receivedAt: r.received_at,
  index: r.idx,
  field: r.field,
  reason: r.reason,
  raw: r.raw,
  ...(r.ip ? { ip: r.ip } : {}),
});

/** The rows of `suppressed` as the store contract returns them. */
export const toSuppressed = (
  rows: { kind: string; value: string }[],
): { anonymousIds: string[]; userIds: string[] } => ({
  anonymousIds: rows.filter((r) => r.kind == 'anonymousId').map((r) => r.value),
  userIds: rows.filter((r) => r.kind == 'userId').map((r) => r.value),
});
