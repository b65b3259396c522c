const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_';

/** Random characters drawn in bulk: one crypto call and one flat string per 64 ids, not per event. */
let pool = '';
let used = 0;

/** A random, URL-safe id of 21 characters (126 bits) from the platform's crypto RNG. */
export const randomId = (): string => {
  if (used >= pool.length) {
    const codes = crypto.getRandomValues(new Uint8Array(21 * 64));
    for (let i = 0; i < codes.length; i++) codes[i] = ALPHABET.charCodeAt(codes[i] & 63);
    pool = new TextDecoder().decode(codes);
    used = 0;
  }
  return pool.slice(used, (used += 21));
};

/** This page's prefix of event ids: 15 random characters (90 bits). */
let page = '';
let count = 0;

/**
 * A unique event id of 21 characters: this page's random prefix and a count. Cheaper than a random
 * id per event (this runs on every call), and as unique: no two pages share a prefix.
 */
export const eventId = (): string =>
  (page ||= randomId().slice(6)) + (1e9 + count++).toString(36).slice(-6);
