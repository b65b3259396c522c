/**
 * The wire format (src/types.ts) as a valibot schema: what the relay accepts from the tracker.
 * Limits are generous for real pages and tight enough that one body cannot hold garbage at scale.
 */
import * as v from 'valibot';
import type { Batch } from '../types';

const MAX_EVENTS = 500;
const id = v.pipe(v.string(), v.minLength(1), v.maxLength(128));
const text = (max: number) => v.pipe(v.string(), v.maxLength(max));
const finite = v.pipe(v.number(), v.finite());
const count = v.pipe(v.number(), v.integer(), v.minValue(0));

/** JSON property values after the tracker's sanitiser (any JSON, bounded by the body limit). */
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
};

/** One event, told apart by `type`; unknown keys are kept (a newer tracker may add fields). */
export const eventSchema = v.variant('type', [
  v.looseObject({ ...base, type: v.literal('pageview'), title: text(4096), referrer: text(8192), properties: v.optional(properties) }),
  v.looseObject({ ...base, type: v.literal('event'), name: v.pipe(v.string(), v.minLength(1), v.maxLength(256)), properties: v.optional(properties) }),
  v.looseObject({ ...base, type: v.literal('identify'), userId: v.pipe(v.string(), v.minLength(1), v.maxLength(512)), traits: v.optional(properties) }),
  v.looseObject({
    ...base,
    type: v.literal('vital'),
    metricName: v.picklist(['LCP', 'CLS', 'INP', 'FCP', 'TTFB']),
    metricValue: v.pipe(finite, v.minValue(0)),
    rating: v.picklist(['good', 'needs-improvement', 'poor']),
    metricId: text(256),
    navigationType: text(64),
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

/** A request body: `{ v: 1, site, sentAt, events }`. */
export const batchSchema = v.object({
  v: v.literal(1),
  site: v.pipe(v.string(), v.minLength(1), v.maxLength(256)),
  sentAt: v.pipe(finite, v.minValue(0)),
  events: v.pipe(v.array(eventSchema), v.minLength(1), v.maxLength(MAX_EVENTS)),
});

/** Why a body was refused: the dotted path of the first bad field and what was expected. */
export interface SchemaProblem {
  field: string;
  message: string;
}

/** Validates a parsed body; returns the batch or the first problem, naming its field. */
export const parseBatch = (body: unknown): { batch: Batch } | { problem: SchemaProblem } => {
  // valibot's object schema takes an array as an object with missing keys; say what is really wrong.
  if (Array.isArray(body)) return { problem: { field: '(body)', message: 'Invalid type: Expected Object but received Array' } };
  const result = v.safeParse(batchSchema, body, { abortEarly: true });
  if (result.success) return { batch: result.output as unknown as Batch };
  const issue = result.issues[0];
  return { problem: { field: v.getDotPath(issue) ?? '(body)', message: issue.message } };
};
