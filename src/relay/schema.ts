/**
 * The wire format (src/types.ts) as valibot schemas: what the relay accepts from the tracker.
 * A body is checked in two steps: its envelope (`v`, `site`, `sentAt`, `events[]`) as a whole, then
 * each event on its own, so one bad event is refused alone and the others are stored. Limits are
 * generous for real pages and tight enough that one body cannot hold garbage at scale.
 */
import * as v from 'valibot';
import type { TrackletEvent } from '../types';
import { compiledCheck, withinBounds } from './fast-check';

/** Events of one body at most. */
export const MAX_EVENTS = 500;
const DAY_MS = 86_400_000;

/**
 * Bounds at ingest, documented in docs/relay.md ("Per-event validation"). Skew correction makes any
 * wrong clock harmless (a reset one starts years in the past), so `sentAt` is bounded only where
 * its numbers would break time arithmetic downstream: ≥ 0 and at most ten years ahead.
 */
export const BOUNDS = {
  /** `sentAt` at most this far ahead of the relay's clock, else every event of the body is refused. */
  sentAtAheadMs: 3650 * DAY_MS,
  /**
   * A skew-corrected time ahead of the receive time by up to this is clamped to it (jitter);
   * further ahead, refused.
   */
  clampAheadMs: DAY_MS,
  /** A skew-corrected time older than this is refused (the tracker's outbox gives up after 7 days). */
  maxAgeMs: 30 * DAY_MS,
  /** Nesting of `properties`, `traits` and other objects inside an event (the tracker's sanitiser allows 5). */
  maxDepth: 8,
  /** Keys of one object and items of one array inside an event (the tracker sends at most 50 and 100). */
  maxKeys: 200,
  maxItems: 1000,
} as const;

/** Event types and vital metrics this relay knows; others are "unknown" (stored, sent to webhooks only). */
export const KNOWN_TYPES = [
  'pageview',
  'event',
  'identify',
  'vital',
  'error',
  'engagement',
] as const;
export const KNOWN_METRICS = ['LCP', 'CLS', 'INP', 'FCP', 'TTFB'] as const;
/** Metrics known to be retired: web-vitals dropped FID for INP, and no destination takes it. */
const RETIRED_METRICS: Record<string, string> = {
  FID: 'FID is retired (web-vitals replaced it with INP); no destination takes it',
};

/**
 * Ids are opaque tokens (the tracker's are letters and digits): one with a NUL or an unpaired
 * surrogate is refused, as no store keeps it as sent (PostgreSQL text refuses NUL, and both stores
 * write UTF-8, where an unpaired surrogate becomes U+FFFD and two ids become one).
 */
const id = v.pipe(
  v.string(),
  v.minLength(1),
  v.maxLength(128),
  v.regex(/^[^\0\p{Cs}]*$/u, 'Invalid id: holds a NUL or an unpaired surrogate'),
);
const text = (max: number) => v.pipe(v.string(), v.maxLength(max));
const finite = v.pipe(v.number(), v.finite());
const count = v.pipe(v.number(), v.integer(), v.minValue(0));

/** JSON property values after the tracker's sanitiser (nesting and sizes bounded by `BOUNDS`). */
const properties = v.record(v.pipe(v.string(), v.maxLength(256)), v.unknown());

const base = {
  id,
  timestamp: v.pipe(finite, v.minValue(0)),
  anonymousId: id,
  sessionId: id,
  userId: v.optional(text(512)),
  url: text(8192),
  path: text(8192),
  attribution: v.optional(v.record(v.pipe(v.string(), v.maxLength(256)), text(8192))),
  /** Properties set for every event (`data-props`, `set()`) ride on every type. */
  properties: v.optional(properties),
};

const vitalFields = {
  metricValue: v.pipe(finite, v.minValue(0)),
  rating: v.picklist(['good', 'needs-improvement', 'poor']),
  metricId: text(256),
  navigationType: text(64),
};

/** One event of a known type, told apart by `type`; unknown keys are kept (a newer tracker may add fields). */
export const eventSchema = v.variant('type', [
  v.looseObject({
    ...base,
    type: v.literal('pageview'),
    title: text(4096),
    referrer: text(8192),
    properties: v.optional(properties),
    status: v.optional(v.pipe(v.number(), v.integer(), v.minValue(100), v.maxValue(599))),
  }),
  v.looseObject({
    ...base,
    type: v.literal('event'),
    name: v.pipe(v.string(), v.minLength(1), v.maxLength(256)),
    properties: v.optional(properties),
  }),
  v.looseObject({
    ...base,
    type: v.literal('identify'),
    userId: v.pipe(v.string(), v.minLength(1), v.maxLength(512)),
    traits: v.optional(properties),
  }),
  v.looseObject({
    ...base,
    type: v.literal('vital'),
    metricName: v.picklist(KNOWN_METRICS),
    ...vitalFields,
  }),
  v.looseObject({
    ...base,
    type: v.literal('error'),
    message: text(16384),
    filename: v.optional(text(8192)),
    lineno: v.optional(count),
    colno: v.optional(count),
    stack: v.optional(text(65536)),
    errorType: text(256),
    count: v.optional(count),
  }),
  v.looseObject({
    ...base,
    type: v.literal('engagement'),
    engagementTime: v.pipe(finite, v.minValue(0)),
    scrollDepth: v.pipe(finite, v.minValue(0), v.maxValue(100)),
    interactionCount: count,
    pageviewId: id,
  }),
]);

/** A vital whose metric a newer tracker added: its other fields as for known metrics. */
const unknownVitalSchema = v.looseObject({
  ...base,
  type: v.literal('vital'),
  metricName: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
  ...vitalFields,
});

/** An event of a type a newer tracker added: only the fields every event has are checked. */
const unknownTypeSchema = v.looseObject({
  ...base,
  type: v.pipe(
    v.string(),
    v.minLength(1),
    v.maxLength(64),
    v.regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits, _ . : - only'),
  ),
});

/** A request body's envelope: `{ v: 1, site, sentAt, events }`; the events are checked one by one. */
export const envelopeSchema = v.object({
  v: v.literal(1),
  site: v.pipe(v.string(), v.minLength(1), v.maxLength(256)),
  sentAt: v.pipe(finite, v.minValue(0)),
  events: v.pipe(v.array(v.unknown()), v.minLength(1), v.maxLength(MAX_EVENTS)),
});

/** Why a body or an event was refused: the dotted path of the first bad field and what was expected. */
export interface SchemaProblem {
  field: string;
  message: string;
}

/** A body's envelope and its events, not yet checked: what a wire-format normaliser hands on. */
export interface Candidates {
  site: string;
  sentAt: number;
  /** Each in the canonical (v1) shape. */
  events: unknown[];
}

/**
 * Checks a parsed body's envelope and returns its candidate events, or the envelope's first
 * problem. Newer wire format versions are turned into this canonical shape here, before any event
 * is checked.
 */
export const parseEnvelope = (
  body: unknown,
): { candidates: Candidates } | { problem: SchemaProblem } => {
  // valibot's object schema takes an array as an object with missing keys; say what is really wrong.
  if (Array.isArray(body))
    return {
      problem: { field: '(body)', message: 'Invalid type: Expected Object but received Array' },
    };
  const result = v.safeParse(envelopeSchema, body, { abortEarly: true });
  if (!result.success) {
    const issue = result.issues[0];
    return { problem: { field: v.getDotPath(issue) ?? '(body)', message: issue.message } };
  }
  const { site, sentAt, events } = result.output;
  return { candidates: { site, sentAt, events } };
};

/**
 * The first place where a value nests deeper than `BOUNDS.maxDepth`, or an object or array holds
 * more than `BOUNDS.maxKeys` keys or `BOUNDS.maxItems` items; walked without recursion, so no input
 * can overflow the stack.
 */
export const boundsProblem = (value: unknown): SchemaProblem | undefined => {
  if (withinBounds(value, BOUNDS)) return undefined;
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: '', depth: 0 }];
  while (stack.length) {
    const { value: node, path, depth } = stack.pop()!;
    if (!node || typeof node != 'object') continue;
    const at = (key: string) => (path ? `${path}.${key}` : key);
    if (depth > BOUNDS.maxDepth)
      return { field: path, message: `nested deeper than ${BOUNDS.maxDepth} levels` };
    if (Array.isArray(node)) {
      if (node.length > BOUNDS.maxItems)
        return { field: path, message: `more than ${BOUNDS.maxItems} items` };
      node.forEach((item, i) => stack.push({ value: item, path: at(String(i)), depth: depth + 1 }));
    } else {
      const keys = Object.keys(node);
      if (keys.length > BOUNDS.maxKeys)
        return { field: path, message: `more than ${BOUNDS.maxKeys} keys` };
      for (const key of keys)
        stack.push({
          value: (node as Record<string, unknown>)[key],
          path: at(key),
          depth: depth + 1,
        });
    }
  }
  return undefined;
};

/** Each event schema compiled once (fast-check.ts). */
const compiledChecks = new Map(
  [eventSchema, unknownVitalSchema, unknownTypeSchema].map(
    (schema) => [schema as unknown, compiledCheck<TrackletEvent>(schema)] as const,
  ),
);

/** How an event stands after checking: known, of a type or metric this relay does not know, or refused. */
export type EventCheck = { event: TrackletEvent; known: boolean } | { problem: SchemaProblem };

/**
 * Checks one candidate event against the schema and the time window. `receivedAt` is the relay's
 * clock, `skewMs` how far the sender's clock was behind. The event itself is never changed: the
 * clamped time is computed where the event is stored (enrich.ts, `correctedTime`).
 */
export const checkEvent = (candidate: unknown, receivedAt: number, skewMs: number): EventCheck => {
  if (!candidate || typeof candidate != 'object' || Array.isArray(candidate))
    return { problem: { field: '(event)', message: 'an event must be an object' } };
  // Bounds first, without recursion: what passes them is safe for every recursive step after
  // (the schema, JSON.stringify, the destination mappings). The event's own fields are depth 1.
  const deep = boundsProblem(candidate);
  if (deep) return { problem: deep };
  const { type, metricName } = candidate as { type?: unknown; metricName?: unknown };
  if (
    type == 'vital' &&
    typeof metricName == 'string' &&
    Object.hasOwn(RETIRED_METRICS, metricName)
  )
    return { problem: { field: 'metricName', message: RETIRED_METRICS[metricName] } };
  const knownType = typeof type == 'string' && (KNOWN_TYPES as readonly string[]).includes(type);
  const knownMetric =
    type != 'vital' || (KNOWN_METRICS as readonly string[]).includes(metricName as string);
  const known = knownType && knownMetric;
  // A missing or non-string type or metric is a broken event, not an unknown one: the known schema names the field.
  const schema = known
    ? eventSchema
    : typeof type == 'string' && !knownType
      ? unknownTypeSchema
      : typeof metricName == 'string'
        ? unknownVitalSchema
        : eventSchema;
  // The compiled check first (fast-check.ts): when it is not sure, valibot decides and words the refusal.
  let event = compiledChecks.get(schema)!(candidate);
  if (!event) {
    const result = v.safeParse(schema, candidate, { abortEarly: true });
    if (!result.success) {
      const issue = result.issues[0];
      return { problem: { field: v.getDotPath(issue) ?? '(event)', message: issue.message } };
    }
    event = result.output as unknown as TrackletEvent;
  }
  const time = event.timestamp + skewMs;
  if (time > receivedAt + BOUNDS.clampAheadMs)
    return {
      problem: {
        field: 'timestamp',
        message:
          `more than ${BOUNDS.clampAheadMs / 3_600_000} h ahead of ` +
          `the relay's clock after correcting the sender's clock`,
      },
    };
  if (time < receivedAt - BOUNDS.maxAgeMs)
    return {
      problem: {
        field: 'timestamp',
        message: `older than ${BOUNDS.maxAgeMs / DAY_MS} days after correcting the sender's clock`,
      },
    };
  return { event, known };
};

/**
 * The problem with a body's `sentAt` more than `BOUNDS.sentAtAheadMs` ahead of `receivedAt` (≥ 0 is
 * the envelope's check).
 */
export const sentAtProblem = (sentAt: number, receivedAt: number): SchemaProblem | undefined =>
  sentAt > receivedAt + BOUNDS.sentAtAheadMs
    ? {
        field: 'sentAt',
        message: `more than ${BOUNDS.sentAtAheadMs / DAY_MS} days ahead of the relay's clock`,
      }
    : undefined;

/** One refused event of a body: where, which field, why. */
export interface Refusal {
  index: number;
  field: string;
  reason: string;
}

/**
 * Checks each candidate event on its own: the ones to store (and which of them are of a type or
 * metric this relay does not know) and the refused ones with their reasons.
 */
export const checkEvents = (
  candidates: Candidates,
  receivedAt: number,
): { accepted: TrackletEvent[]; unknown: Set<TrackletEvent>; rejected: Refusal[] } => {
  const accepted: TrackletEvent[] = [];
  const unknown = new Set<TrackletEvent>();
  const rejected: Refusal[] = [];
  // A clock too far ahead makes every time in the body meaningless: each event is refused for it.
  const clock = sentAtProblem(candidates.sentAt, receivedAt);
  const skewMs = Math.round(receivedAt - candidates.sentAt);
  candidates.events.forEach((candidate, index) => {
    const checked = clock ? { problem: clock } : checkEvent(candidate, receivedAt, skewMs);
    if ('problem' in checked)
      return void rejected.push({
        index,
        field: checked.problem.field || '(event)',
        reason: checked.problem.message,
      });
    accepted.push(checked.event);
    if (!checked.known) unknown.add(checked.event);
  });
  // Unknown types are stored even when nothing else is in the body: a newer tracker's body of only
  // new kinds of event would otherwise be refused, and its outbox would drop it.
  return { accepted, unknown, rejected };
};
