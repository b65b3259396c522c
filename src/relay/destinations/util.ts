/** Small helpers the destination mappings share. */
import { createHash } from 'node:crypto';
import { COMMERCE_EVENTS, type CommerceEventName, type CommerceItem } from '../../commerce';
import type { TrackletEvent } from '../../types';
import { KNOWN_METRICS, KNOWN_TYPES } from '../schema';
import type { Delivery } from '../store';
import type { HttpResult, Outcome } from './types';

const COMMERCE_NAMES = new Set<string>(Object.values(COMMERCE_EVENTS));

/**
 * A request body already serialised as JSON: `post` sends its text as it is (instead of
 * `JSON.stringify` of the body).
 */
export class JsonText {
  constructor(readonly text: string) {}
}

export { jsonOnce } from '../json-once';

/** The standard commerce name of a custom event, if it is one. */
export const commerceName = (event: TrackletEvent): CommerceEventName | undefined =>
  event.type == 'event' && COMMERCE_NAMES.has(event.name)
    ? (event.name as CommerceEventName)
    : undefined;

/**
 * True for the event types and vital metrics this relay knows. Others (a newer tracker's) are
 * stored and sent to webhooks, which take the wire format as is; every other destination skips them.
 */
export const isKnownEvent = (event: TrackletEvent): boolean =>
  (KNOWN_TYPES as readonly string[]).includes(event.type) &&
  (event.type != 'vital' || (KNOWN_METRICS as readonly string[]).includes(event.metricName));

/** Lowercase hex SHA-256. */
export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * Copies JSON without `null`s (in objects and arrays) and without `undefined` keys. Walks with its
 * own stack, not recursion, so no nesting depth can overflow the call stack.
 */
export const withoutNulls = (value: unknown): unknown => {
  const copy = (x: unknown): unknown =>
    Array.isArray(x) ? [] : x && typeof x == 'object' ? {} : x;
  const root = copy(value);
  const stack: [source: unknown, target: unknown][] = [[value, root]];
  while (stack.length) {
    const [source, target] = stack.pop()!;
    if (!target || typeof target != 'object') continue;
    if (Array.isArray(source)) {
      for (const item of source) {
        if (item == null) continue;
        const child = copy(item);
        (target as unknown[]).push(child);
        stack.push([item, child]);
      }
    } else {
      for (const [key, item] of Object.entries(source as Record<string, unknown>)) {
        if (item == null) continue;
        const child = copy(item);
        // defineProperty: a key named `__proto__` stays a plain key.
        Object.defineProperty(target, key, {
          value: child,
          enumerable: true,
          writable: true,
          configurable: true,
        });
        stack.push([item, child]);
      }
    }
  }
  return root;
};

/** Omits `undefined`/`null`/empty-string values of a flat object (APIs that must never get `null`). */
export const compact = <T extends Record<string, unknown>>(object: T): Partial<T> => {
  const out: Record<string, unknown> = {};
  for (const [key, x] of Object.entries(object)) if (x != null && x !== '') out[key] = x;
  return out as Partial<T>;
};

/** A property as a string, if it is a string or a number. */
export const str = (value: unknown): string | undefined =>
  typeof value == 'string'
    ? value
    : typeof value == 'number' && Number.isFinite(value)
      ? String(value)
      : undefined;

/** A property as a finite number, if it is one or a numeric string. */
export const num = (value: unknown): number | undefined => {
  const n = typeof value == 'string' && value.trim() ? Number(value) : value;
  return typeof n == 'number' && Number.isFinite(n) ? n : undefined;
};

/** The product lines of a commerce event: `items[]`, or the event's own product fields. */
export const itemsOf = (properties: Record<string, unknown> = {}): CommerceItem[] => {
  const lines = Array.isArray(properties.items)
    ? properties.items
    : properties.product_id != null
      ? [properties]
      : [];
  return lines
    .filter((x): x is Record<string, unknown> => !!x && typeof x == 'object')
    .map((x) => ({
      product_id: str(x.product_id) ?? '',
      variant_id: str(x.variant_id),
      name: str(x.name),
      price: num(x.price),
      quantity: num(x.quantity),
      currency: str(x.currency),
    }))
    .filter((x) => x.product_id || x.name);
};

/** The properties of an event (custom and pageview), `{}` when none. */
export const propertiesOf = (event: TrackletEvent): Record<string, unknown> =>
  (event.type == 'event' || event.type == 'pageview'
    ? event.properties
    : event.type == 'identify'
      ? event.traits
      : undefined) ?? {};

/** Splits a list into chunks of at most `size`. */
export const chunk = <T>(list: T[], size: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
};

/** Joins a base URL and a path without doubling or dropping the slash. */
export const join = (base: string, path: string): string => base.replace(/\/+$/, '') + path;

/** Turns an HTTP result into the outcome of the deliveries it carried. */
export const outcome = (deliveries: Delivery[], result: HttpResult): Outcome => ({
  deliveries,
  ok: result.ok,
  error: result.error,
  permanent: result.permanent,
  ...(result.retryAfterMs != undefined ? { retryAfterMs: result.retryAfterMs } : {}),
  ...(result.held ? { held: true } : {}),
});

/** A delivery with what its mapping made of it. */
export interface Mapped<T> {
  delivery: Delivery;
  value: T;
}

/**
 * Maps each delivery on its own: one whose mapping throws fails alone, permanently (the same
 * event would throw again), with the reason; the others go on.
 */
export const mapEach = <T>(
  deliveries: Delivery[],
  map: (delivery: Delivery) => T,
): { mapped: Mapped<T>[]; failed: Outcome[] } => {
  const mapped: Mapped<T>[] = [];
  const failed: Outcome[] = [];
  for (const delivery of deliveries) {
    try {
      mapped.push({ delivery, value: map(delivery) });
    } catch (error) {
      failed.push({
        deliveries: [delivery],
        ok: false,
        permanent: true,
        error: `cannot map event ${delivery.stored.event.id}: ${(error as Error).message}`,
      });
    }
  }
  return { mapped, failed };
};

/** Statuses by which a batch API refuses what the request holds (not who sent it, nor where). */
const CONTENT_REFUSALS = new Set([400, 413, 422]);

/**
 * Sends a group in one request; when the API refuses its content (400, 413, 422), halves the group
 * and sends each half, down to single events, so only the refused events fail. Auth and endpoint
 * refusals (401, 403, 404) concern every event alike and are not split.
 */
export const sendNarrowing = async <T>(
  items: Mapped<T>[],
  send: (items: Mapped<T>[]) => Promise<HttpResult>,
): Promise<Outcome[]> => {
  const result = await send(items);
  const deliveries = items.map((item) => item.delivery);
  if (result.ok || items.length < 2 || !CONTENT_REFUSALS.has(result.status ?? 0))
    return [outcome(deliveries, result)];
  const half = Math.ceil(items.length / 2);
  return [
    ...(await sendNarrowing(items.slice(0, half), send)),
    ...(await sendNarrowing(items.slice(half), send)),
  ];
};

/**
 * Sends mapped deliveries in batches of at most `size`, one request each (`send` builds and POSTs
 * it), narrowing a batch whose content the API refuses (see `sendNarrowing`). The destinations
 * that post JSON batches share it.
 */
export const postBatches = async <T>(
  items: Mapped<T>[],
  size: number,
  send: (items: Mapped<T>[]) => Promise<HttpResult>,
): Promise<Outcome[]> => {
  const outcomes: Outcome[] = [];
  for (const group of chunk(items, size)) outcomes.push(...(await sendNarrowing(group, send)));
  return outcomes;
};

/**
 * Each delivery sent on its own, one request each, and settled as soon as it is answered (see
 * `DestinationContext.settle`); a mapping that gave nothing is done without a request.
 */
export const postEach = async <T>(
  items: Mapped<T | undefined>[],
  send: (value: T) => Promise<HttpResult>,
  settle?: (outcome: Outcome) => Promise<void>,
): Promise<Outcome[]> => {
  const outcomes: Outcome[] = [];
  for (const { delivery, value } of items) {
    const result: Outcome =
      value === undefined
        ? { deliveries: [delivery], ok: true }
        : outcome([delivery], await send(value));
    if (settle) await settle(result);
    else outcomes.push(result);
  }
  return outcomes;
};

/** An email to identify the visitor by: `traits.email`, or a user id that is an email. */
export const emailOf = (event: TrackletEvent): string | undefined => {
  const candidate =
    event.type == 'identify' ? (str(event.traits?.email) ?? event.userId) : event.userId;
  return candidate && /^[^@\s]+@[^@\s]+$/.test(candidate)
    ? candidate.trim().toLowerCase()
    : undefined;
};
