const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_';

/** Random bytes drawn in bulk: one crypto call per 64 ids instead of one per event. */
let pool = new Uint8Array(0);
let used = 0;

/** A random, URL-safe id of 21 characters (126 bits) from the platform's crypto RNG. */
export const randomId = (): string => {
  if (used + 21 > pool.length) {
    pool = crypto.getRandomValues(new Uint8Array(21 * 64));
    used = 0;
  }
  let id = '';
  for (let i = 0; i < 21; i++) id += ALPHABET[pool[used++] & 63];
  return id;
};
