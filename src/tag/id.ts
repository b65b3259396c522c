/**
 * Ids for the first file, written for size: 21 random characters of base 32 (105 bits) from the
 * platform's crypto RNG for the visitor and the session; event ids are this page's random prefix and
 * a count, as in `core/id.ts`.
 */
export const randomId = (): string =>
  Array.from(crypto.getRandomValues(new Uint8Array(21)), (byte) => (byte & 31).toString(32)).join(
    '',
  );

/** This page's prefix of event ids: 14 random characters (70 bits). */
const page = randomId().slice(7);
let count = 1e8;

/** A unique event id: this page's prefix and a 9-digit count. */
export const eventId = (): string => page + count++;
