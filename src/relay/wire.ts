/**
 * Every wire version the tracker ever shipped, turned into the canonical body (version 1) that the
 * schema validates and the store keeps. Scripts cached in browsers and CDNs send an older version for
 * days after an upgrade, so each version stays accepted.
 *
 * - v1: `{ v: 1, site, sentAt, events }`, every event complete.
 * - v2: `{ v: 2, site, sentAt, common?, events }`: fields that every event of the body shares
 *   (anonymous id, session id, user id, page URL…) are sent once in `common`, and event i is
 *   `{ ...common, ...events[i] }`.
 */

/** Largest `common` object (bytes of its JSON): a few ids and one URL fit many times over. */
export const MAX_COMMON_BYTES = 16_384;

/** Why a body cannot be made canonical: the field and what was expected. */
export interface WireProblem {
  field: string;
  message: string;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value == 'object' && value != null && !Array.isArray(value);

/**
 * Returns the canonical (v1) form of a parsed body, or why it has none. Version-1 bodies, and
 * what is not an object (for the schema to name), are returned as they are.
 */
export const canonicalBody = (body: unknown): { body: unknown } | { problem: WireProblem } => {
  if (!isRecord(body) || body.v === 1) return { body };
  if (body.v !== 2)
    return {
      problem: {
        field: 'v',
        message: `Invalid version: this relay reads versions 1 and 2, received ${JSON.stringify(body.v)?.slice(0, 20)}`,
      },
    };
  const { common = {}, events, ...envelope } = body;
  if (!isRecord(common))
    return { problem: { field: 'common', message: 'Invalid type: Expected Object' } };
  // Merged into every event: bounded, so that one body cannot multiply into megabytes of events.
  if (JSON.stringify(common).length > MAX_COMMON_BYTES)
    return {
      problem: {
        field: 'common',
        message: `Invalid length: Expected at most ${MAX_COMMON_BYTES} bytes of JSON`,
      },
    };
  if (!Array.isArray(events)) return { body: { ...envelope, v: 1, events } };
  // Spread copies own enumerable keys only: a `__proto__` key of the JSON stays a plain data key.
  const merged = events.map((event) => (isRecord(event) ? { ...common, ...event } : event));
  return { body: { ...envelope, v: 1, events: merged } };
};
