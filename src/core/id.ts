const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_';

/**
 * A random, URL-safe id of 21 characters (126 bits) from the platform's crypto RNG. Drawn a few
 * times per page (visitor, session, this page): event ids take a page prefix and a count instead.
 */
export const randomId = (): string => {
  let id = '';
  for (const byte of crypto.getRandomValues(new Uint8Array(21))) id += ALPHABET[byte & 63];
  return id;
};

/** This page's prefix of event ids: 12 random characters (72 bits), drawn as the file loads. */
const page = randomId().slice(9);
let count = 1e8;

/**
 * A unique event id of 21 characters: this page's random prefix and a 9-digit count (from
 * 100000000). Cheaper than a random id per event (this runs on every call), and as unique: no two
 * pages share a prefix.
 */
export const eventId = (): string => page + count++;
