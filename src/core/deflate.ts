/**
 * A small synchronous compressor for request bodies: deflate (RFC 1951: LZ77 matches, fixed
 * Huffman codes) in a zlib stream (RFC 1950) that starts from a preset dictionary (`dictionary.ts`),
 * so that even a short body compresses. Synchronous, so that the beacon of a page going away is
 * compressed too. Any zlib library inflates it, given the dictionary (docs/wire-format.md).
 */
import { DICTIONARY } from './dictionary';

/** The Adler-32 checksum of bytes (RFC 1950). */
export const adler32 = (bytes: Uint8Array): number => {
  let a = 1;
  let b = 0;
  for (const byte of bytes) ((a = (a + byte) % 65521), (b = (b + a) % 65521));
  return b * 65536 + a;
};

/** The 4 bytes of a number, most significant first. */
const word = (value: number) => [
  value >>> 24,
  (value >> 16) & 255,
  (value >> 8) & 255,
  value & 255,
];

/**
 * The zlib stream of `input`, compressed with the preset dictionary. Matches are found on hash
 * chains of 3-byte prefixes, 64 candidates per position at most (enough for bodies of at most
 * 32 KiB, in a few milliseconds), 3 to 257 bytes long (length code 284 with its extra bits; 258
 * would need code 285), at most 32 KiB back.
 */
export const deflate = (input: Uint8Array): Uint8Array => {
  const dictionary = new TextEncoder().encode(DICTIONARY);
  const start = dictionary.length;
  const data = new Uint8Array([...dictionary, ...input]);
  const out: number[] = [];
  let bits = 0;
  let count = 0;
  /** Writes `length` bits of `value`, least significant first. */
  const put = (value: number, length: number) => {
    bits |= value << count;
    for (count += length; count > 7; count -= 8) (out.push(bits & 255), (bits >>>= 8));
  };
  /** Writes a Huffman code: most significant bit first. */
  const code = (value: number, length: number) => {
    while (length--) put((value >> length) & 1, 1);
  };
  // The fixed literal/length code (RFC 1951, 3.2.6).
  const symbol = (s: number) =>
    s < 144
      ? code(48 + s, 8)
      : s < 256
        ? code(256 + s, 9)
        : s < 280
          ? code(s - 256, 7)
          : code(s - 88, 8);
  /**
   * Writes `value` (a length less 3, or a distance less 1) as its code, then the code's extra bits:
   * the first codes have none, then `extra` grows by one every 2^`k` codes (RFC 1951, 3.2.5).
   */
  const coded = (value: number, k: number, write: (index: number) => void) => {
    const extra = Math.max(0, 31 - Math.clz32(value) - k);
    write((extra << k) + (value >> extra));
    put(value & ((1 << extra) - 1), extra);
  };
  // Hash chains: `head` the latest position of a hash, `previous` the one before. Past the end a
  // byte reads as undefined: it hashes as 0 and equals no byte, so a match stops at the end and
  // no bound needs checking (a candidate is always before the position, hence within the data).
  const head = new Int32Array(32768).fill(-1);
  const previous = new Int32Array(data.length);
  const hash = (p: number) => ((data[p] << 10) ^ (data[p + 1] << 5) ^ data[p + 2]) & 32767;
  const insert = (p: number) => ((previous[p] = head[hash(p)]), (head[hash(p)] = p));
  for (let p = 0; p < start; p++) insert(p);
  put(3, 3); // The last block, fixed codes.
  for (let p = start; p < data.length;) {
    let best = 2;
    let distance = 0;
    for (let c = head[hash(p)], tries = 64; c >= 0 && p - c <= 32768 && tries--; c = previous[c]) {
      let length = 0;
      while (length < 257 && data[c + length] == data[p + length]) length++;
      if (length > best) ((best = length), (distance = p - c));
    }
    if (distance) {
      coded(best - 3, 2, (i) => symbol(257 + i));
      coded(distance - 1, 1, (i) => code(i, 5));
    } else symbol(data[p]);
    for (const end = p + (distance ? best : 1); p < end; p++) insert(p);
  }
  symbol(256);
  put(0, 7);
  // Header: deflate, 32 KiB window, a preset dictionary (FDICT) named by its checksum.
  return new Uint8Array([
    0x78,
    0x20,
    ...word(adler32(dictionary)),
    ...out,
    ...word(adler32(input)),
  ]);
};
