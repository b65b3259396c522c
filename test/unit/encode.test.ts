// Compressed bodies: flushes gzip where the browser can, the beacon at page hide with the
// preset dictionary (core/deflate.ts), plain text where compressing is off or saves nothing.
import { CompressionStream } from 'node:stream/web';
import { gunzipSync, inflateSync } from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { resolveConfig } from '../../src/config';
import { DICTIONARY } from '../../src/core/dictionary';
import { gzip, installEncoder, zip, ZIP_MAX } from '../../src/core/encode';
import { createOutbox } from '../../src/core/outbox';
import type { TrackletEvent } from '../../src/types';

const events = (count: number): TrackletEvent[] =>
  Array.from(
    { length: count },
    (_, i) =>
      ({
        id: 'page-prefix-' + i,
        type: 'event',
        name: 'click',
        timestamp: Date.now(),
        anonymousId: 'anon',
        sessionId: 'sess',
        url: 'https://s.example/a',
        path: '/a',
        properties: { n: i },
      }) as TrackletEvent,
  );

/** What fetch and sendBeacon were given, the bodies as they went. */
const network = () => {
  const fetched: (string | Blob)[] = [];
  const beaconed: (string | Blob)[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (_url: string, init: RequestInit) => {
      fetched.push(init.body as string | Blob);
      return new Response(null, { status: 204 });
    }),
  );
  vi.stubGlobal('navigator', {
    ...navigator,
    sendBeacon: (_url: string, body: string | Blob) => (beaconed.push(body), true),
  });
  return { fetched, beaconed };
};

/** The text of a body as a collector reads it: gzip inflated. */
const text = async (body: string | Blob) =>
  typeof body == 'string'
    ? body
    : gunzipSync(new Uint8Array(await new Response(body).arrayBuffer())).toString('utf8');

/** A config as the script tag's second file leaves it: the version-4 encoder installed. */
const config = (options: Record<string, unknown> = {}) => {
  const resolved = resolveConfig(
    { endpoint: 'https://c.example/collect', site: 's', ...options },
    false,
  )!;
  installEncoder({ config: resolved } as never);
  return resolved;
};

afterEach(() => vi.unstubAllGlobals());

describe('gzip', () => {
  it('compresses a text into a text/plain Blob that inflates back to it', async () => {
    vi.stubGlobal('CompressionStream', CompressionStream);
    const body = JSON.stringify({ v: 4, events: events(20) });
    const blob = (await gzip(body)) as Blob;
    expect(blob).toBeInstanceOf(Blob);
    expect(blob.type).toBe('text/plain');
    expect(blob.size).toBeLessThan(body.length / 3);
    expect(await text(blob)).toBe(body);
  });

  it('gives the text itself where the browser cannot compress, or where it saves nothing', async () => {
    expect(await gzip('{"v":4}')).toBe('{"v":4}');
    vi.stubGlobal('CompressionStream', CompressionStream);
    expect(await gzip('{}')).toBe('{}');
  });
});

describe('zip', () => {
  it('compresses a body up to ZIP_MAX at once, and leaves a longer one as it is', () => {
    let body = JSON.stringify({ v: 4, events: events(20) });
    expect(body.length).toBeLessThan(ZIP_MAX);
    const blob = zip(body) as Blob;
    expect(blob).toBeInstanceOf(Blob);
    expect(blob.type).toBe('text/plain');
    expect(blob.size).toBeLessThan(body.length / 3);
    for (let n = 20; body.length <= ZIP_MAX; n *= 2)
      body = JSON.stringify({ v: 4, events: events(n) });
    expect(zip(body)).toBe(body);
  });
});

describe('compressed flushes', () => {
  it('sends a flush gzip-compressed, with every event', async () => {
    vi.stubGlobal('CompressionStream', CompressionStream);
    const { fetched } = network();
    const outbox = createOutbox(config());
    const tracked = events(10);
    outbox.add(tracked);
    await outbox.drain();
    expect(fetched).toHaveLength(1);
    expect(fetched[0]).toBeInstanceOf(Blob);
    expect(JSON.parse(await text(fetched[0]))).toMatchObject({ v: 1, site: 's' });
    expect(JSON.parse(await text(fetched[0])).events).toEqual(JSON.parse(JSON.stringify(tracked)));
  });

  it('sends plain text with compress: false', async () => {
    vi.stubGlobal('CompressionStream', CompressionStream);
    const { fetched } = network();
    const outbox = createOutbox(config({ compress: false }));
    outbox.add(events(3));
    await outbox.drain();
    expect(fetched).toHaveLength(1);
    expect(typeof fetched[0]).toBe('string');
    expect(fetched[0]).toContain('"v":4');
    expect(JSON.parse(fetched[0] as string).events).toHaveLength(3);
  });

  it('beacons at page hide at once, compressed with the preset dictionary', async () => {
    vi.stubGlobal('CompressionStream', CompressionStream);
    const { beaconed } = network();
    const outbox = createOutbox(config());
    const tracked = events(3);
    outbox.add(tracked);
    outbox.hide();
    expect(beaconed).toHaveLength(1);
    expect(beaconed[0]).toBeInstanceOf(Blob);
    expect((beaconed[0] as Blob).type).toBe('text/plain');
    const bytes = new Uint8Array(await (beaconed[0] as Blob).arrayBuffer());
    const body = inflateSync(bytes, { dictionary: Buffer.from(DICTIONARY) }).toString('utf8');
    expect(body).toContain('"v":4');
    expect(bytes.length).toBeLessThan(body.length / 2);
    // JSON.parse rebuilds canonical events here (test/unit/setup.ts), as the relay does.
    expect(JSON.parse(body)).toEqual({
      v: 1,
      site: 's',
      sentAt: expect.any(Number),
      events: JSON.parse(JSON.stringify(tracked)),
    });
  });

  it('beacons plain text at page hide with compress: false', () => {
    const { beaconed } = network();
    const outbox = createOutbox(config({ compress: false }));
    outbox.add(events(3));
    outbox.hide();
    expect(beaconed).toHaveLength(1);
    expect(beaconed[0]).toContain('"v":4');
    expect(JSON.parse(beaconed[0] as string).events).toHaveLength(3);
  });

  it('gives the text itself where compressing saves nothing', () => {
    expect(zip('{}')).toBe('{}');
    expect(zip('{"v":4,"site":"s","events":[]}')).toBeInstanceOf(Blob);
  });

  it('reads data-compress="false" from a script tag', () => {
    const tag = { endpoint: 'https://c.example/collect', site: 's', compress: 'false' };
    expect(resolveConfig(tag, true)?.compress).toBe(false);
    expect(resolveConfig({ ...tag, compress: undefined }, true)?.compress).toBeUndefined();
  });
});

describe('before the encoder is installed (first file alone, npm build)', () => {
  it('sends version 2, plain', async () => {
    vi.stubGlobal('CompressionStream', CompressionStream);
    const { fetched } = network();
    const outbox = createOutbox(
      resolveConfig({ endpoint: 'https://c.example/collect', site: 's' }, false)!,
    );
    outbox.add(events(3));
    await outbox.drain();
    expect(fetched[0]).toContain('"v":2');
  });
});
