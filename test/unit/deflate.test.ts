// The synchronous compressor of request bodies: every output inflates back, with the preset
// dictionary, in Node's zlib (what the relay and any other collector use).
import { deflateSync, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { adler32, deflate } from '../../src/core/deflate';
import { DICTIONARY } from '../../src/core/dictionary';

const inflate = (bytes: Uint8Array) =>
  new Uint8Array(inflateSync(bytes, { dictionary: Buffer.from(DICTIONARY) }));

/** Deterministic pseudo-random bytes (xorshift), so that a failure can be replayed. */
const randomBytes = (length: number, seed: number, alphabet = 256) => {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    bytes[i] = (seed >>> 0) % alphabet;
  }
  return bytes;
};

const utf8 = (text: string) => new TextEncoder().encode(text);

/** A version-4 body much like the tracker's, of `count` events. */
const body = (count: number) =>
  JSON.stringify({
    v: 4,
    site: 'shop',
    sentAt: 1796187231912,
    ids: 'Vgn1MQ7TQ9XML000000',
    common: { anonymousId: 'V9zgNtky9deA6DHt2LdrK', sessionId: '-RgMtS9GeWMivb03IkNWv' },
    events: Array.from({ length: count }, (_, i) =>
      i % 3
        ? {
            id: String(i),
            ago: 900 - i,
            name: 'cta_click',
            properties: { n: i, label: 'Ça coûte €' },
          }
        : {
            id: String(i),
            ago: 12,
            type: 'vital',
            metricName: 'LCP',
            metricValue: 580 + i,
            rating: 'good',
          },
    ),
  });

// Deep equality of 40,000-byte arrays takes seconds on a busy machine: more than the default 5 s.
describe('deflate', { timeout: 30_000 }, () => {
  it('round-trips JSON bodies of every size, to more than the 32 KiB window', () => {
    for (const count of [0, 1, 2, 5, 20, 100, 500]) {
      const input = utf8(body(count));
      expect(inflate(deflate(input))).toEqual(input);
    }
    expect(utf8(body(500)).length).toBeGreaterThan(40_000);
  });

  it('round-trips random bytes, repetitive bytes and the edges of the match lengths', () => {
    for (const [length, seed, alphabet] of [
      [0, 1, 256],
      [1, 2, 256],
      [3, 3, 256],
      [5000, 4, 256],
      [40_000, 5, 256],
      [20_000, 6, 2],
      [20_000, 7, 5],
    ])
      expect(inflate(deflate(randomBytes(length, seed, alphabet)))).toEqual(
        randomBytes(length, seed, alphabet),
      );
    for (const length of [255, 256, 257, 258, 259, 514, 515, 40_000])
      expect(inflate(deflate(new Uint8Array(length).fill(97)))).toEqual(
        new Uint8Array(length).fill(97),
      );
    // The dictionary itself, and text that repeats it from far back.
    const far = utf8(DICTIONARY + 'x'.repeat(33_000) + DICTIONARY);
    expect(inflate(deflate(far))).toEqual(far);
  });

  it('is a zlib stream naming its dictionary, and compresses a short body well', () => {
    const input = utf8(body(3));
    const bytes = deflate(input);
    expect([...bytes.slice(0, 2)]).toEqual([0x78, 0x20]);
    expect((bytes[0] * 256 + bytes[1]) % 31).toBe(0);
    const dictid = new DataView(bytes.buffer).getUint32(2);
    expect(dictid).toBe(adler32(utf8(DICTIONARY)));
    // Collectors read bodies by this checksum (docs/wire-format.md): the dictionary never changes.
    expect(dictid).toBe(0xbb78e264);
    expect(DICTIONARY).toHaveLength(721);
    expect(bytes.length).toBeLessThan(input.length / 2);
    // Without the dictionary, zlib refuses it: a collector must know which one it is.
    expect(() => inflateSync(bytes)).toThrow();
  });

  it('computes Adler-32 as RFC 1950 defines it', () => {
    expect(adler32(utf8('Wikipedia'))).toBe(0x11e60398);
    expect(adler32(new Uint8Array(0))).toBe(1);
    // zlib writes the checksum of the input as the stream's last 4 bytes.
    for (const input of [new Uint8Array(100_000).fill(255), randomBytes(9000, 8)]) {
      const zlib = deflateSync(input);
      expect(adler32(input)).toBe(
        new DataView(zlib.buffer, zlib.byteOffset).getUint32(zlib.length - 4),
      );
    }
  });
});
