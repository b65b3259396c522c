/**
 * Browsers allow 64 KiB of beacon and keepalive bodies in flight per page, and Chromium still
 * counts a request for a moment after its response arrived: bodies of at most half that let the
 * next send (or the beacon at hide) start without being refused.
 */
export const MAX_BODY = 32768;

/** UTF-8 length of a string. */
export const byteLength = (text: string): number =>
  // ASCII only (the usual event): one byte per character, found by one native scan.
  /[^\0-\x7f]/.test(text) ? new TextEncoder().encode(text).length : text.length;

/**
 * Splits items, in order, into runs that fit one body: `head` bytes of envelope plus each item's
 * `size` and a comma stay within MAX_BODY. An item too large for any body gets a run of its own.
 */
export const runs = <T>(items: T[], size: (item: T) => number, head: number): T[][] => {
  const result: T[][] = [];
  let run: T[] = [];
  let total = head;
  for (const item of items) {
    const bytes = size(item) + 1;
    if (run.length && total + bytes > MAX_BODY) {
      result.push(run);
      run = [];
      total = head;
    }
    run.push(item);
    total += bytes;
  }
  if (run.length) result.push(run);
  return result;
};

/**
 * POSTs a body with a keepalive fetch, as `text/plain` (a string, or a Blob of that type), without
 * credentials or custom headers: a CORS "simple request", so no preflight. Resolves to the
 * response, or to undefined on a network error, a refused request (keepalive quota) or an
 * unreadable answer.
 */
export const post = (endpoint: string, body: string | Blob): Promise<Response | void> =>
  // The executor runs at once: a throwing fetch rejects the promise like a failed request.
  new Promise<Response>((resolve) =>
    resolve(fetch(endpoint, { method: 'POST', body, keepalive: true, credentials: 'omit' })),
  ).catch(() => {});

/** Queues a body with `sendBeacon` (text/plain); false where it is missing, refuses or throws. */
export const beacon = (endpoint: string, body: string | Blob): boolean => {
  try {
    return navigator.sendBeacon(endpoint, body);
  } catch {
    return false;
  }
};
