/**
 * Every wire version the tracker ever shipped, turned into the canonical body (version 1) that the
 * schema validates and the store keeps. Scripts cached in browsers and CDNs send an older version for
 * days after an upgrade, so each version stays accepted.
 *
 * - v1: `{ v: 1, site, sentAt, events }`, every event complete.
 * - v2: `{ v: 2, site, sentAt, common?, events }`: fields that every event of the body shares
 *   (anonymous id, session id, user id, page URL…) are sent once in `common`, and event i is
 *   `{ ...common, ...events[i] }`.
 * - v3 was never sent: relays before v4 refused it as unknown, and it stays so.
 * - v4: `{ v: 4, site, sentAt, ids, common, events }`: as v2, then each event's `id` and
 *   `pageviewId` follow the prefix `ids`, `timestamp` is `sentAt - ago`, and a missing `path` is
 *   the pathname of `url` (a vital's `navigationType` is `navigate`, a pageview's `referrer` "").
 *   Bodies of any version may arrive compressed, gzip or zlib with a preset dictionary (see `decodeBody`).
 */
import { gunzipSync, inflateSync } from 'node:zlib';
import { adler32 } from '../core/deflate';
import { DICTIONARY } from '../core/dictionary';
import { boundsProblem, MAX_EVENTS } from './schema';

/** Largest `common` object (bytes of its JSON): a few ids and one URL fit many times over. */
export const MAX_COMMON_BYTES = 16_384;

/** Why a body cannot be made canonical: the field and what was expected. */
export interface WireProblem {
  field: string;
  message: string;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value == 'object' && value != null && !Array.isArray(value);

/** The problem with a version the relay does not read. */
const badVersion = (version: unknown): { problem: WireProblem } => ({
  problem: {
    field: 'v',
    message:
      'Invalid version: this relay reads versions 1 and 2 (complete events, shared fields ' +
      `once) and 4 (compact), received ${shown(version)}`,
  },
});

/** A value named in a message: an object or array by its kind (serialising one nested deep overflows the stack). */
const shown = (value: unknown) =>
  value && typeof value == 'object'
    ? Array.isArray(value)
      ? 'an array'
      : 'an object'
    : JSON.stringify(value)?.slice(0, 20);

/**
 * The pathname of each URL, parsed once per body (the events of a body share their URL, and parsing
 * a long one with a non-ASCII host takes about 0.4 ms); undefined where it does not parse. Not
 * `URL.canParse`: Node 20's answers false for a non-ASCII host once V8 has optimised its caller.
 */
const pathnames = () => {
  const known = new Map<string, string | undefined>();
  return (url: string) => {
    if (known.has(url)) return known.get(url);
    let path: string | undefined;
    try {
      path = new URL(url).pathname;
    } catch {
      // Left undefined, for the schema to name.
    }
    known.set(url, path);
    return path;
  };
};

/**
 * A version-4 event (already merged with `common`) in canonical form: ids after their prefix,
 * `timestamp` from `ago`, `path` from `url`, defaults filled in. What does not fit is left for the schema to name.
 */
const expand = (
  event: Record<string, unknown>,
  ids: string,
  sentAt: unknown,
  pathOf: (url: string) => string | undefined,
) => {
  const { ago, ...canonical } = event;
  for (const key of ['id', 'pageviewId'])
    if (typeof canonical[key] == 'string') canonical[key] = ids + canonical[key];
  if (ago !== undefined)
    canonical.timestamp =
      typeof ago == 'number' && typeof sentAt == 'number' ? sentAt - ago : undefined;
  if (canonical.path === undefined && typeof canonical.url == 'string')
    canonical.path = pathOf(canonical.url);
  if (canonical.type == 'vital') canonical.navigationType ??= 'navigate';
  if (canonical.type == 'pageview') canonical.referrer ??= '';
  return canonical;
};

/**
 * Returns the canonical (v1) form of a parsed body, or why it has none. Version-1 bodies, and
 * what is not an object (for the schema to name), are returned as they are. `room`: the bytes that
 * repeating `common` into each event may add (the body limit less the body's size); past it, a 413.
 */
export const canonicalBody = (
  body: unknown,
  room = Infinity,
): { body: unknown } | { problem: WireProblem; status?: 413 } => {
  if (!isRecord(body) || body.v === 1) return { body };
  if (body.v !== 2 && body.v !== 4) return badVersion(body.v);
  const { common = {}, events, ids = '', ...envelope } = body;
  if (!isRecord(common))
    return { problem: { field: 'common', message: 'Invalid type: Expected Object' } };
  if (body.v === 4 && (typeof ids != 'string' || ids.length > 128))
    return { problem: { field: 'ids', message: 'Invalid type: Expected a string of at most 128' } };
  // Merged into every event, so held to an event's bounds first: walked without recursion, where
  // serialising a `common` nested thousands of levels deep would overflow the stack.
  const deep = boundsProblem(common);
  if (deep)
    return {
      problem: { field: deep.field ? `common.${deep.field}` : 'common', message: deep.message },
    };
  const json = JSON.stringify(common).length;
  // Merged into every event: bounded, so that one body cannot multiply into megabytes of events.
  if (json > MAX_COMMON_BYTES)
    return {
      problem: {
        field: 'common',
        message: `Invalid length: Expected at most ${MAX_COMMON_BYTES} bytes of JSON`,
      },
    };
  // Left as they came for the envelope's check to refuse: repeating `common` into 40,000 events (a
  // 122 KB body) first stopped the event loop for seconds.
  if (!Array.isArray(events) || events.length > MAX_EVENTS)
    return { body: { ...envelope, v: 1, events } };
  // Rebuilt, a body is held to the limit of a plain one, as an inflated one is (the tracker sizes
  // its bodies as complete events, so none of its own grows past it): 1.5 KB of gzip asked for 8 MB.
  if ((json - 2) * events.length > room)
    return {
      status: 413,
      problem: {
        field: 'common',
        message: `repeated into each of the ${events.length} events, it takes the body past its limit`,
      },
    };
  // Spread copies own enumerable keys only: a `__proto__` key of the JSON stays a plain data key.
  const merged = events.map((event) => (isRecord(event) ? { ...common, ...event } : event));
  const pathOf = pathnames();
  const canonical =
    body.v === 4
      ? merged.map((event) =>
          isRecord(event) ? expand(event, ids as string, envelope.sentAt, pathOf) : event,
        )
      : merged;
  return { body: { ...envelope, v: 1, events: canonical } };
};

/** The first bytes of every gzip stream (RFC 1952); a JSON text never starts with them. */
const isGzip = (bytes: Uint8Array) => bytes.length > 1 && bytes[0] == 0x1f && bytes[1] == 0x8b;

/**
 * A zlib stream (RFC 1950) of deflate with a 32 KiB window, whose header check bits hold: its first
 * byte, 0x78 (`x`), is never the first byte of a JSON text.
 */
const isZlib = (bytes: Uint8Array) =>
  bytes.length > 1 && bytes[0] == 0x78 && (bytes[0] * 256 + bytes[1]) % 31 == 0;

/** The preset dictionaries by their checksum (the zlib header's DICTID): one so far. */
const DICTIONARIES = new Map(
  [DICTIONARY].map((text) => [adler32(Buffer.from(text)), Buffer.from(text)]),
);

/** The zlib options of a stream: its preset dictionary, when it names one this relay knows. */
const zlibOptions = (bytes: Uint8Array, limit: number) => {
  const dictionary =
    bytes[1] & 0x20 && bytes.length > 5
      ? DICTIONARIES.get(Buffer.from(bytes).readUInt32BE(2))
      : undefined;
  return { maxOutputLength: limit, ...(dictionary && { dictionary }) };
};

/**
 * A request body as text: UTF-8, inflated first when it is compressed (recognised by its first
 * bytes, as browsers cannot send `Content-Encoding` without a preflight): gzip, or zlib with the
 * preset dictionary of `core/dictionary.ts`. Inflating stops at `limit` bytes of output, so that a
 * small body cannot expand into gigabytes (a "zip bomb"): past it, a 413.
 */
export const decodeBody = (
  bytes: Uint8Array,
  limit: number,
): { text: string } | { status: 400 | 413; problem: WireProblem } => {
  const zlib = isZlib(bytes);
  const format = zlib ? 'zlib' : 'gzip';
  if (!zlib && !isGzip(bytes)) return { text: Buffer.from(bytes).toString('utf8') };
  try {
    const text = zlib
      ? inflateSync(bytes, zlibOptions(bytes, limit))
      : gunzipSync(bytes, { maxOutputLength: limit });
    return { text: text.toString('utf8') };
  } catch (error) {
    return (error as { code?: string }).code == 'ERR_BUFFER_TOO_LARGE'
      ? {
          status: 413,
          problem: {
            field: '(body)',
            message: `the ${format} body inflates past the limit of ${limit} bytes`,
          },
        }
      : {
          status: 400,
          problem: {
            field: '(body)',
            message: `the body starts as ${format} but does not inflate`,
          },
        };
  }
};
