/**
 * The body of every request, wire version 4 (docs/wire-format.md): fields every event of the body
 * shares go once in `common`, event ids after a prefix they share (`ids`), times as milliseconds
 * before `sentAt` (`ago`), and `path` only where it is not the URL's pathname. Flushes that are
 * not the page-hide beacon may travel gzip-compressed.
 */
import type { TrackletEvent } from '../types';
import { stringify } from './sanitize';

type Fields = Record<string, unknown>;

/** The longest prefix every string of `list` starts with. */
const sharedPrefix = (list: string[]): string => {
  let prefix = list[0] || '';
  for (const item of list) while (!item.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix;
};

/** The pathname of an absolute URL, or undefined. */
const pathOf = (url: unknown): string | undefined => {
  try {
    return new URL(url as string).pathname;
  } catch {
    // Not a URL: its path stays on the wire.
  }
};

/** Values a collector fills in where absent: a vital's `navigationType`, a pageview's `referrer`. */
const isDefault = (event: Fields, key: string, value: unknown) =>
  (key == 'navigationType' && value === 'navigate' && event.type == 'vital') ||
  (key == 'referrer' && value === '' && event.type == 'pageview');

/** Event `event`'s fields as version 4 writes them, before the shared ones move to `common`. */
const compact = (event: Fields, ids: string, sentAt: number): Fields => {
  const own: Fields = {};
  for (const key in event) {
    const value = event[key];
    if ((key == 'id' || key == 'pageviewId') && typeof value == 'string')
      own[key] = value.slice(ids.length);
    // Integers only: `sentAt - ago` then gives the same number back, exactly.
    else if (key == 'timestamp' && Number.isInteger(value)) own.ago = sentAt - (value as number);
    else if (!(key == 'path' && value === pathOf(event.url)) && !isDefault(event, key, value))
      own[key] = value;
  }
  return own;
};

/**
 * The version-4 text of a body. A collector rebuilds event i as `{ ...common, ...events[i] }`, then
 * `id` (and `pageviewId`) = `ids` + its value, `timestamp` = `sentAt - ago`, and where absent `path`
 * = the URL's pathname, a vital's `navigationType` = `navigate`, a pageview's `referrer` = "".
 */
export const encodeBody = (site: string, events: TrackletEvent[], sentAt = Date.now()): string => {
  const list = events as unknown as Fields[];
  const ids = sharedPrefix(
    list.flatMap((event) => [event.id, event.pageviewId].filter((id) => typeof id == 'string')),
  ) as string;
  const own = list.map((event) => compact(event, ids, sentAt));
  const common: Fields = {};
  // A field every event has goes to `common` with the value most of them share (twice at least):
  // an event with another value keeps its own, which the merge lets win.
  if (own.length > 1)
    for (const key in own[0]) {
      const counts = new Map<unknown, number>();
      for (const event of own) {
        const value = event[key];
        if (value === undefined || (value !== null && typeof value == 'object')) {
          counts.clear();
          break;
        }
        counts.set(value, (counts.get(value) || 0) + 1);
      }
      let best = 1;
      for (const [value, count] of counts)
        if (count > best) ((best = count), (common[key] = value));
    }
  for (const key in common)
    for (const event of own) if (event[key] === common[key]) delete event[key];
  const body: Fields = { v: 4, site, sentAt };
  if (ids) body.ids = ids;
  if (Object.keys(common).length) body.common = common;
  body.events = own;
  return stringify(body);
};

/**
 * The text gzip-compressed, as a `text/plain` Blob (a CORS-safelisted type: no preflight); the text
 * itself where the browser cannot compress, or where compressing saves nothing.
 */
export const gzip = (text: string): Promise<Blob | string> => {
  try {
    return new Response(new Blob([text]).stream().pipeThrough(new CompressionStream('gzip')), {
      headers: { 'Content-Type': 'text/plain' },
    })
      .blob()
      .then(
        (blob) => (blob.size < text.length ? blob : text),
        () => text,
      );
  } catch {
    return Promise.resolve(text);
  }
};
