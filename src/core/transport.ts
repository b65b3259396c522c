import type { Batch, TrackletEvent } from '../types';
import { log } from './log';

/** Browsers allow 64 KiB of beacon/keepalive bodies in flight per page; stay under it. */
export const MAX_BODY = 65536;

/** UTF-8 length of a string without encoding it. */
export const byteLength = (text: string): number => {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    // Two extra bytes for U+0800..U+FFFF, one for U+0080..U+07FF; a surrogate pair (4 bytes) is two code units counted +1 each.
    if (code > 0x7ff) bytes += code >= 0xd800 && code <= 0xdfff ? 1 : 2;
    else if (code > 0x7f) bytes++;
  }
  return bytes;
};

/**
 * Packs events into request bodies of at most `limit` bytes each, in order. An event that alone
 * exceeds the limit cannot be sent; it is returned in `tooLarge`.
 */
export const pack = (
  site: string,
  events: TrackletEvent[],
  limit = MAX_BODY,
): { bodies: string[]; sent: TrackletEvent[][]; tooLarge: TrackletEvent[] } => {
  const bodies: string[] = [];
  const sent: TrackletEvent[][] = [];
  const tooLarge: TrackletEvent[] = [];
  const sentAt = Date.now();
  const head = JSON.stringify({ v: 1, site, sentAt } satisfies Omit<Batch, 'events'>).slice(0, -1) + ',"events":[';
  let parts: string[] = [];
  let group: TrackletEvent[] = [];
  let size = byteLength(head) + 2;
  const close = () => {
    if (parts.length) {
      bodies.push(head + parts.join(',') + ']}');
      sent.push(group);
    }
    parts = [];
    group = [];
    size = byteLength(head) + 2;
  };
  for (const event of events) {
    const json = JSON.stringify(event);
    const bytes = byteLength(json) + 1;
    if (byteLength(head) + 2 + bytes > limit) {
      tooLarge.push(event);
      continue;
    }
    if (size + bytes > limit) close();
    parts.push(json);
    group.push(event);
    size += bytes;
  }
  close();
  return { bodies, sent, tooLarge };
};

/**
 * Hands one body to the network without blocking the page: `sendBeacon` first (a string body is
 * sent as `text/plain`, a CORS-safelisted type, so no preflight), then `fetch` with `keepalive`.
 * Returns false when neither would take it, so the caller can keep the events.
 */
export const send = (endpoint: string, body: string): boolean => {
  try {
    if (navigator.sendBeacon?.(endpoint, body)) {
      log('sent by beacon', body.length, 'bytes');
      return true;
    }
  } catch {
    // Some browsers throw for a refused beacon instead of returning false.
  }
  try {
    fetch(endpoint, {
      method: 'POST',
      body,
      keepalive: true,
      credentials: 'omit',
      headers: { 'Content-Type': 'text/plain' },
    }).catch((error) => log('fetch failed', error));
    log('sent by fetch', body.length, 'bytes');
    return true;
  } catch {
    return false;
  }
};
