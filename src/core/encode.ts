/**
 * The body of every request, wire version 4 (docs/wire-format.md): fields every event of the body
 * shares go once in `common`, event ids after a prefix they share (`ids`), times as milliseconds
 * before `sentAt` (`ago`), and `path` only where it is not the URL's pathname. Flushes travel
 * gzip-compressed, the beacon at page hide compressed with the preset dictionary (`deflate.ts`).
 */
import { off, type Capture } from './contract';
import { deflate } from './deflate';
import type { TrackletEvent } from '../types';

type Fields = Record<string, unknown>;

/** The pathname of an absolute URL, or undefined. */
const pathOf = (url: unknown): string | undefined => {
  try {
    return new URL(url as string).pathname;
  } catch {
    // Not a URL: its path stays on the wire.
  }
};

/**
 * The values a collector fills in where absent, by event type and field (docs/wire-format.md). The
 * one comma of each name (an array as a key is its items joined by commas) tells type and field
 * apart: no other type and field give the same name.
 */
const DEFAULTS: Fields = { 'vital,navigationType': 'navigate', 'pageview,referrer': '' };

/**
 * The version-4 body (the outbox serialises it). A collector rebuilds event i as `{ ...common, ...events[i] }`, then
 * `id` (and `pageviewId`) = `ids` + its value, `timestamp` = `sentAt - ago`, and where absent `path`
 * = the URL's pathname, a vital's `navigationType` = `navigate`, a pageview's `referrer` = "".
 */
export const encodeBody = (site: string, events: TrackletEvent[], sentAt = Date.now()): object => {
  const list = events as unknown as Fields[];
  // The prefix every id of the body starts with (a page's ids share 19 characters).
  let ids = list[0] ? String(list[0].id) : '';
  for (const event of list)
    for (const id of [event.id, event.pageviewId])
      if (typeof id == 'string') while (!id.startsWith(ids)) ids = ids.slice(0, -1);
  /** Per field: how many events have it, and how many have each of its primitive values. */
  const seen: Record<string, [number, Map<unknown, number>]> = {};
  const own = list.map((event) => {
    const fields: Fields = {};
    for (const key in event) {
      const value = event[key];
      if (value === undefined) continue;
      if (typeof value == 'string' && (key == 'id' || key == 'pageviewId'))
        fields[key] = value.slice(ids.length);
      // Integers only: `sentAt - ago` then gives the same number back, exactly.
      else if (key == 'timestamp' && Number.isInteger(value))
        fields.ago = sentAt - (value as number);
      else if (
        key == 'path' ? value !== pathOf(event.url) : value !== DEFAULTS[[event.type, key] as never]
      )
        fields[key] = value;
    }
    for (const key in fields) {
      const value = fields[key];
      const counted = (seen[key] ||= [0, new Map()]);
      counted[0]++;
      if (value === null || typeof value != 'object')
        counted[1].set(value, (counted[1].get(value) || 0) + 1);
    }
    return fields;
  });
  // A field every event has goes to `common` with the value most of them share (twice at least);
  // an event with another value keeps its own, which the merge lets win.
  const common: Fields = {};
  for (const key in seen) {
    let best = 1;
    if (seen[key][0] == list.length)
      for (const [value, count] of seen[key][1])
        if (count > best) ((best = count), (common[key] = value));
    for (const fields of own) if (fields[key] === common[key]) delete fields[key];
  }
  return { v: 4, site, sentAt, ids, common, events: own };
};

/** A `text/plain` Blob of the bytes (a CORS-safelisted type: no preflight), or the text where it is no shorter. */
const plain = (bytes: BlobPart, text: string): Blob | string => {
  const blob = new Blob([bytes], { type: 'text/plain' });
  return blob.size < text.length ? blob : text;
};

/**
 * The text gzip-compressed, as a `text/plain` Blob; the text itself where the browser cannot
 * compress, or where compressing saves nothing.
 */
export const gzip = async (text: string): Promise<Blob | string> => {
  try {
    return plain(
      await new Response(
        new Blob([text]).stream().pipeThrough(new CompressionStream('gzip')),
      ).blob(),
      text,
    );
  } catch {
    return text;
  }
};

/**
 * Longest text compressed at once. The compressor runs on the main thread while the page goes away,
 * and cold (about 2 µs a byte in V8's interpreter, 0.4 warm): a body up to this size costs a few
 * milliseconds; a longer one (a backlog after an outage) goes as it is.
 */
export const ZIP_MAX = 16_384;

/**
 * The text compressed at once (zlib with the preset dictionary, `deflate.ts`), as a `text/plain`
 * Blob; the text itself where it is longer than {@link ZIP_MAX}, or compressing saves nothing or fails.
 */
export const zip = (text: string): Blob | string => {
  try {
    if (text.length <= ZIP_MAX)
      return plain(deflate(new TextEncoder().encode(text)) as Uint8Array<ArrayBuffer>, text);
  } catch {
    // Sent as it is.
  }
  return text;
};

/**
 * A capture that makes the outbox send version 4, and compress its bodies unless `compress: false`.
 * The script tag's second file attaches it, so that the first file stays small: until then (and
 * in the npm build) bodies are version 2.
 */
export const installEncoder: Capture = ({ config }) => {
  config.encode = encodeBody;
  if (!off(config.compress)) ((config.gzip = gzip), (config.zip = zip));
};
