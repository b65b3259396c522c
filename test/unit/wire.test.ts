// Wire version 2: what every event of a body shares goes once in `common`.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { resolveConfig } from '../../src/config';
import { createOutbox, wireBatch } from '../../src/core/outbox';
import type { TrackletEvent } from '../../src/types';

let serial = 0;
const event = (fields: Record<string, unknown> = {}): TrackletEvent =>
  ({
    id: 'id' + serial++,
    type: 'event',
    name: 'click',
    timestamp: 1000 + serial,
    anonymousId: 'anon',
    sessionId: 'sess',
    userId: 'user',
    url: 'https://s.example/a?x=1',
    path: '/a',
    ...fields,
  }) as TrackletEvent;

/** What a collector does with a version-2 body: `{ ...common, ...events[i] }`. */
const canonical = (body: { common?: object; events: object[] }) =>
  body.events.map((own) => ({ ...body.common, ...own }));

afterEach(() => vi.unstubAllGlobals());

describe('wire version 2', () => {
  it('sends the fields every event shares once, in common, and each event its own', () => {
    const events = [
      event(),
      event({ name: 'scroll', properties: { depth: 50 } }),
      event({ type: 'pageview', title: 'A', referrer: '' }),
    ];
    const body = wireBatch('site', events, 5);
    expect(body).toMatchObject({ v: 2, site: 'site', sentAt: 5 });
    expect(body.common).toEqual({
      anonymousId: 'anon',
      sessionId: 'sess',
      userId: 'user',
      url: 'https://s.example/a?x=1',
      path: '/a',
    });
    expect(body.events[0]).toEqual({
      id: events[0].id,
      type: 'event',
      name: 'click',
      timestamp: events[0].timestamp,
    });
    expect(canonical(body)).toEqual(events);
  });

  it.each([
    ['a body of one event', [event()], undefined],
    [
      'events of two pages and users',
      [event(), event({ url: 'https://s.example/b', path: '/b', userId: undefined })],
      { anonymousId: 'anon', sessionId: 'sess', type: 'event', name: 'click' },
    ],
    [
      'objects that are equal but not primitives',
      [event({ attribution: { utm_source: 'a' } }), event({ attribution: { utm_source: 'a' } })],
      {
        anonymousId: 'anon',
        sessionId: 'sess',
        userId: 'user',
        url: 'https://s.example/a?x=1',
        path: '/a',
        type: 'event',
        name: 'click',
      },
    ],
  ])('rebuilds every event exactly from %s', (_name, events, common) => {
    const body = wireBatch('s', events);
    expect(body.common).toEqual(common);
    expect(canonical(body)).toEqual(JSON.parse(JSON.stringify(events)));
  });

  it('leaves a field out of common when one event lacks it', () => {
    const body = wireBatch('s', [event(), event({ userId: undefined })]);
    expect(body.common).not.toHaveProperty('userId');
    expect(canonical(body).map((e) => (e as TrackletEvent).userId)).toEqual(['user', undefined]);
  });

  it('puts the anonymous id on the wire once per body, and the body is shorter than complete events', async () => {
    const texts: string[] = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(
        async (_url: string, init: RequestInit) => (
          texts.push(init.body as string),
          new Response(null, { status: 204 })
        ),
      ),
    );
    const outbox = createOutbox(
      resolveConfig({ endpoint: 'https://c.example/collect', site: 's' }, false)!,
    );
    const events = Array.from({ length: 10 }, () => event({ timestamp: Date.now() }));
    outbox.add(events);
    await outbox.drain();
    expect(texts).toHaveLength(1);
    expect(texts[0].match(/"anon"/g)).toHaveLength(1);
    expect(texts[0].match(/"https:\/\/s\.example\/a\?x=1"/g)).toHaveLength(1);
    expect(texts[0].length).toBeLessThan(
      JSON.stringify({ v: 1, site: 's', sentAt: Date.now(), events }).length * 0.6,
    );
  });
});
