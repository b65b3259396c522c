// The script tag sends nothing the relay would refuse whole: a user id over 512 characters, an
// event name over 256, properties past the relay's bounds (`BOUNDS` in src/relay/schema.ts). What it
// can repair cheaply it repairs (arrays cut at 1,000 items, keys over 256 characters left out); the
// rest is refused with a warning, and a refused event is counted. Calls over the 100 kept before
// the start are counted and warned about once, and an `exclude` pattern that is no text is ignored
// with a warning instead of leaving tracking off (in Chromium: test/browser/limits.test.ts).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Batch, TrackletEvent } from '../../../src/types';
import { filterOf } from '../../../src/core/privacy';
import { checkEvent } from '../../../src/relay/schema';
import { BASE, freshPageEachTest, loadTag } from './load';

const win = window as unknown as { tracklet?: unknown };
let bodies: Batch[];
const events = () => bodies.flatMap((body) => body.events) as TrackletEvent[];
/** What the relay says of each sent event: 'ok', or the problem it refuses it for. */
const verdicts = () =>
  events().map((event) => {
    const check = checkEvent(event, Date.now(), 0);
    return 'problem' in check ? check.problem.message : 'ok';
  });
const warnings = (warn: { mock: { calls: unknown[][] } }, text: string) =>
  warn.mock.calls.filter((call) => String(call[1]).includes(text));
const drops = (log: { mock: { calls: unknown[][] } }) =>
  log.mock.calls.filter((call) => call[1] == 'dropped').map((call) => call[2]);

freshPageEachTest();
beforeEach(() => {
  delete win.tracklet;
  bodies = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (_url: string, init: RequestInit) => {
      bodies.push(JSON.parse(init.body as string));
      return new Response(null, { status: 204 });
    }),
  );
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** `{a: {a: … {}}}`: `levels` objects, one inside the other. */
const nested = (levels: number): Record<string, unknown> =>
  levels > 1 ? { a: nested(levels - 1) } : {};

describe('identify()', () => {
  it('refuses an id over 512 characters with a warning, and keeps the previous one', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const tracklet = await loadTag({ 'data-auto-pageview': 'false' });
    tracklet.identify('user-1');
    const token = 'eyJ' + 'x'.repeat(600);
    tracklet.identify(token);
    tracklet.track('after');
    tracklet.identify('u'.repeat(512));
    await tracklet.flush();
    expect(warnings(warn, 'identify()')).toEqual([
      ['[tracklet]', 'identify() needs an id (1-512 characters):', token],
    ]);
    const sent = events();
    expect(sent.map((event) => event.type)).toEqual(['identify', 'event', 'identify']);
    expect(sent[1].userId).toBe('user-1');
    expect(sent[2].userId).toHaveLength(512);
    expect(verdicts()).toEqual(['ok', 'ok', 'ok']);
  });
});

describe('track()', () => {
  it('refuses, counts and warns about an event named over 256 characters', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const tracklet = await loadTag({ 'data-auto-pageview': 'false', 'data-debug': 'true' });
    const long = 'n'.repeat(257);
    tracklet.track(long);
    tracklet.track('n'.repeat(256));
    await tracklet.flush();
    expect(events().map((event) => ('name' in event ? event.name.length : 0))).toEqual([256]);
    expect(verdicts()).toEqual(['ok']);
    expect(warnings(warn, 'track()')).toEqual([
      ['[tracklet]', 'track() needs an event name (1-256 characters):', long],
    ]);
    expect(drops(log)).toEqual([1]);
  });
});

describe('properties past the relay’s bounds', () => {
  it('cuts an array at 1,000 items, at once even when it holds ten million', async () => {
    const tracklet = await loadTag({ 'data-auto-pageview': 'false' });
    const started = performance.now();
    tracklet.track('huge', { a: new Array(1e7), b: [[1, 2, 3]] });
    // Cleaning walked the ten million holes, ~1.8 s, before the cut.
    expect(performance.now() - started).toBeLessThan(300);
    await tracklet.flush();
    const [event] = events() as unknown as { properties: { a: unknown[]; b: unknown } }[];
    expect(event.properties.a).toHaveLength(1000);
    expect(event.properties.b).toEqual([[1, 2, 3]]);
    expect(verdicts()).toEqual(['ok']);
  });

  it('leaves out a key over 256 characters, and keeps the others', async () => {
    const tracklet = await loadTag({ 'data-auto-pageview': 'false' });
    const long = 'k'.repeat(257);
    tracklet.track('plain', { [long]: 1, plan: 'pro' });
    tracklet.track('nested', { [long]: { x: 1 }, deep: { [long]: 2, y: 3 } });
    tracklet.identify('user-1', { [long]: true, name: 'Ada' });
    await tracklet.flush();
    expect(
      events().map((event) => event.properties ?? (event as { traits?: unknown }).traits),
    ).toEqual([{ plan: 'pro' }, { deep: { y: 3 } }, { name: 'Ada' }]);
    expect(verdicts()).toEqual(['ok', 'ok', 'ok']);
  });

  it('drops, with a warning, properties of over 200 keys in an object or nested over 8 levels', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const tracklet = await loadTag({ 'data-auto-pageview': 'false' });
    const wide = Object.fromEntries(Array.from({ length: 201 }, (_, i) => ['k' + i, i]));
    const fine = Object.fromEntries(Array.from({ length: 200 }, (_, i) => ['k' + i, i]));
    tracklet.track('wide', wide);
    tracklet.track('wide-inside', { inner: wide });
    tracklet.track('deep', nested(9));
    tracklet.track('fine', fine);
    tracklet.track('deep-enough', nested(8));
    tracklet.page({ list: [nested(6)] });
    await tracklet.flush();
    const sent = events();
    expect(sent.map((event) => ('name' in event ? event.name : event.type))).toEqual([
      'wide',
      'wide-inside',
      'deep',
      'fine',
      'deep-enough',
      'pageview',
    ]);
    expect(sent.slice(0, 3).map((event) => event.properties)).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect(sent[3].properties).toEqual(fine);
    expect(sent[4].properties).toEqual(nested(8));
    expect(sent[5].properties).toEqual({ list: [nested(6)] });
    expect(verdicts()).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
    expect(warnings(warn, 'properties dropped:')).toHaveLength(3);
  });
});

describe('calls before the start', () => {
  it('counts the calls over the 100 kept as drops, and warns once', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    // No data-endpoint: the tracker waits for tracklet('init', …) from the third file.
    const tag = document.createElement('script');
    for (const [name, value] of Object.entries({ ...BASE, 'data-auto-pageview': 'false' }))
      if (name != 'data-endpoint') tag.setAttribute(name, value);
    Object.defineProperty(document, 'currentScript', { configurable: true, get: () => tag });
    // The third file is imported below: this page loads no script (happy-dom would fail it).
    vi.spyOn(document.head, 'append').mockImplementation(() => {});
    vi.resetModules();
    await import('../../../src/script');
    const tracklet = (window as unknown as { tracklet: (...args: unknown[]) => unknown }).tracklet;
    for (let i = 0; i < 103; i++) tracklet('track', 'early-' + i);
    // Calls of the third file's methods wait in a queue of their own, as long.
    for (let i = 0; i < 102; i++) tracklet('set', { n: i });
    expect(warnings(warn, 'over 100 calls before the start')).toHaveLength(1);
    await import('../../../src/marketing');
    tracklet('init', { endpoint: 'https://c.example/collect', debug: true });
    await (tracklet as unknown as { flush: () => Promise<unknown> }).flush();
    expect(events()).toHaveLength(100);
    expect(drops(log)).toEqual([]);
    // Counted before debug was on: the first drop after the start shows the total.
    tracklet('track', 'n'.repeat(257));
    expect(drops(log)).toEqual([1]);
    expect(log.mock.calls.find((call) => call[1] == 'dropped')?.at(-1)).toMatchObject({
      dropped: 6,
    });
  });
});

describe('an exclude pattern that is no text', () => {
  // The production third file (test/browser/limits.test.ts) keeps tracking; the debug build's
  // validation refuses the options as a whole, with its own warning.
  it('is ignored with a warning, and the other patterns still exclude', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const filter = filterOf({ exclude: [/admin/, '/secret/*', 7] })!;
    const at = (path: string) => filter({ path, sessionId: 's' } as TrackletEvent);
    expect([at('/'), at('/admin'), at('/secret/page')]).toEqual([true, true, false]);
    expect(warnings(warn, 'exclude')).toEqual([
      ['[tracklet]', 'exclude: not a path pattern, ignored:', /admin/],
      ['[tracklet]', 'exclude: not a path pattern, ignored:', 7],
    ]);
  });
});
