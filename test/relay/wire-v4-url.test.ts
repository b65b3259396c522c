/**
 * Version 4 leaves out `path` where it is the pathname of `url`, and the relay puts it back. It
 * must do so for every event of every body: `URL.canParse` of Node 20 answers false for a URL with
 * a non-ASCII host once V8 has optimised its caller (after a few hundred calls), where `new URL`
 * parses it.
 */
import { describe, expect, it } from 'vitest';
import { canonicalBody } from '../../src/relay/wire';

const body = (url: string, events: number) => ({
  v: 4,
  site: 'shop',
  sentAt: 1_000_000,
  ids: 'q',
  common: { type: 'pageview', anonymousId: 'a', sessionId: 's', title: 't', url },
  events: Array.from({ length: events }, (_, i) => ({ id: String(i), ago: 1 })),
});

describe('a version-4 path rebuilt from the URL', () => {
  it('is the pathname for every event of many bodies, non-ASCII hosts included', () => {
    const paths = new Map<string, number>();
    for (let round = 0; round < 20; round++)
      for (const url of ['https://bücher.example/regal', 'https://shop.example/ä?x=1#y']) {
        const { body: canonical } = canonicalBody(body(url, 500)) as {
          body: { events: { path?: string }[] };
        };
        for (const { path } of canonical.events)
          paths.set(String(path), (paths.get(String(path)) ?? 0) + 1);
      }
    expect(Object.fromEntries(paths)).toEqual({ '/regal': 10_000, '/%C3%A4': 10_000 });
  });

  it('is left out for a URL that does not parse, for the schema to name', () => {
    const { body: canonical } = canonicalBody(body('http://[::1', 2)) as {
      body: { events: { path?: string }[] };
    };
    expect(canonical.events.map((e) => 'path' in e && e.path)).toEqual([undefined, undefined]);
  });
});
