import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { resolveConfig } from '../../src/config';
import type { Config, TrackletOptions } from '../../src/core/contract';
import {
  createPrivacy,
  gateStats,
  MAX_WAITING,
  pathPattern,
  sampleOf,
} from '../../src/core/privacy';
import { randomId } from '../../src/core/id';
import { clear, read, write } from '../../src/core/storage';
import { setDebug } from '../../src/core/log';
import { MASK } from '../../src/core/scrub';
import type { TrackletEvent } from '../../src/types';

const config = (options: Partial<TrackletOptions> = {}): Config =>
  resolveConfig({ endpoint: '/c', site: 's', includeLocal: true, ...options }, false)!;

let n = 0;
const event = (fields: Partial<TrackletEvent> = {}): TrackletEvent =>
  ({
    id: 'e' + n++,
    type: 'event',
    name: 'x',
    timestamp: 0,
    anonymousId: 'a',
    sessionId: 'session-1',
    url: 'https://s.example/',
    path: '/',
    ...fields,
  }) as TrackletEvent;

/** A gate whose queue is an array. */
const gate = (options: Partial<TrackletOptions> = {}) => {
  const sent: TrackletEvent[] = [];
  return { sent, ...createPrivacy(config(options), (e) => sent.push(e)) };
};

const setNavigator = (name: string, value: unknown) =>
  Object.defineProperty(navigator, name, { value, configurable: true });

beforeEach(() => {
  localStorage.clear();
  clear();
  gateStats.dropped = 0;
});
afterEach(() => {
  vi.restoreAllMocks();
  setDebug(false);
  for (const name of ['webdriver', 'doNotTrack', 'globalPrivacyControl'])
    delete (navigator as unknown as Record<string, unknown>)[name];
});

describe('consent', () => {
  it('sends at once and stores everything when consent is not required', () => {
    const { sent, pass_ } = gate();
    pass_(event());
    write('aid', 'x');
    expect(sent).toHaveLength(1);
    expect(localStorage.getItem('tracklet:aid')).toBe('x');
  });

  it('keeps events in memory and stores nothing until consent(true), then sends them in order', () => {
    const { sent, pass_, consent_ } = gate({ consent: 'required' });
    const events = [event(), event(), event()];
    events.forEach(pass_);
    write('aid', 'visitor');
    expect(sent).toEqual([]);
    expect(localStorage.length).toBe(0);
    consent_(true);
    expect(sent).toEqual(events);
    // What was kept in memory meanwhile is stored on grant, so the next page has the same ids.
    expect(localStorage.getItem('tracklet:aid')).toBe('visitor');
    expect(localStorage.getItem('tracklet:consent')).toBe('1');
    pass_(event());
    expect(sent).toHaveLength(4);
  });

  it(`keeps at most ${MAX_WAITING} events waiting, counting the rest as dropped`, () => {
    const { sent, pass_, consent_ } = gate({ consent: 'required' });
    for (let i = 0; i < MAX_WAITING + 5; i++) pass_(event());
    consent_(true);
    expect(sent).toHaveLength(MAX_WAITING);
    expect(gateStats.dropped).toBe(5);
  });

  it('consent(false) drops the waiting events, clears storage but the record, and drops every later event', () => {
    localStorage.setItem('tracklet:outbox', '[1]');
    localStorage.setItem('other-app', 'kept');
    const { sent, pass_, consent_ } = gate({ consent: 'required' });
    pass_(event());
    consent_(false);
    pass_(event());
    write('aid', 'visitor');
    expect(sent).toEqual([]);
    expect(gateStats.dropped).toBe(2);
    expect({ ...localStorage }).toEqual({ 'tracklet:consent': '0', 'other-app': 'kept' });
  });

  it('remembers the choice on the next page', () => {
    gate({ consent: 'required' }).consent_(true);
    const granted = gate({ consent: 'required' });
    granted.pass_(event());
    expect(granted.sent).toHaveLength(1);
    gate({ consent: 'required' }).consent_(false);
    clear(); // a new page: nothing in memory
    const denied = gate({ consent: 'required' });
    denied.pass_(event());
    expect(denied.sent).toEqual([]);
  });

  it('honours a denial without consent mode too (an opt-out)', () => {
    const { sent, pass_, consent_ } = gate();
    consent_(false);
    pass_(event());
    expect(sent).toEqual([]);
    const next = gate();
    next.pass_(event());
    expect(next.sent).toEqual([]);
  });

  it('warns and changes nothing when consent() gets something else than a boolean', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const { sent, pass_, consent_ } = gate({ consent: 'required' });
    pass_(event());
    consent_('yes' as never);
    expect(warn.mock.calls[0].join(' ')).toContain('consent() takes true or false');
    expect(sent).toEqual([]);
    expect(localStorage.length).toBe(0);
  });
});

describe('cookieless mode', () => {
  it('never touches localStorage, not even for the consent record', () => {
    const setItem = vi.spyOn(Storage.prototype, 'setItem');
    const { sent, pass_, consent_ } = gate({ storage: 'none', consent: 'required' });
    write('aid', 'visitor');
    pass_(event());
    consent_(true);
    expect(sent).toHaveLength(1);
    expect(read('aid')).toBe('visitor');
    expect(setItem).not.toHaveBeenCalled();
    expect(localStorage.length).toBe(0);
  });
});

describe('page-wide exclusions', () => {
  it.each([
    ['localhost (happy-dom runs on it)', {}, () => {}],
    ['an automated browser', {}, () => setNavigator('webdriver', true)],
    ['Do Not Track', { includeLocal: true }, () => setNavigator('doNotTrack', '1')],
    [
      'Global Privacy Control',
      { includeLocal: true },
      () => setNavigator('globalPrivacyControl', true),
    ],
  ])('sends and stores nothing on %s, and says so once in debug mode', (_, options, setUp) => {
    setUp();
    setDebug(true);
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const sent: TrackletEvent[] = [];
    const { pass_ } = createPrivacy({ ...config(), includeLocal: false, ...options }, (e) =>
      sent.push(e),
    );
    pass_(event());
    pass_(event());
    write('aid', 'x');
    expect(sent).toEqual([]);
    expect(localStorage.length).toBe(0);
    expect(log.mock.calls.filter((call) => call.join(' ').includes('not tracking'))).toHaveLength(
      1,
    );
  });

  it.each([
    ['includeLocal', { includeLocal: true }, () => setNavigator('webdriver', true)],
    [
      "privacySignals: 'ignore'",
      { privacySignals: 'ignore' as const },
      () => setNavigator('globalPrivacyControl', true),
    ],
  ])('sends with %s', (_, options, setUp) => {
    setUp();
    const { sent, pass_ } = gate(options);
    pass_(event());
    expect(sent).toHaveLength(1);
  });
});

describe('excluded paths', () => {
  it.each([
    [['/admin/*'], '/admin', true],
    [['/admin/*'], '/admin/users/5', true],
    [['/admin/*'], '/administrator', false],
    [['/admin/*'], '/', false],
    [['/private'], '/private', true],
    [['/private'], '/private/x', false],
    [['/shop/*/checkout'], '/shop/42/checkout', true],
    [['/shop/*/checkout'], '/shop/42/cart', false],
    [['/a.b', '/c+(d)'], '/a.b', true],
    [['/a.b'], '/axb', false],
    [['/a.b', '/c+(d)'], '/c+(d)', true],
    [[], '/', false],
  ])('%j excludes %s: %s', (patterns, path, excluded) => {
    expect(pathPattern(patterns).test(path)).toBe(excluded);
  });

  it('drops events of excluded paths only', () => {
    const { sent, pass_ } = gate({ exclude: ['/admin/*'] });
    pass_(event({ path: '/admin/users' }));
    pass_(event({ path: '/pricing' }));
    expect(sent.map((e) => e.path)).toEqual(['/pricing']);
    expect(gateStats.dropped).toBe(1);
  });
});

describe('sampling', () => {
  it('keeps or drops every event of a session alike', () => {
    const { sent, pass_ } = gate({ sampleRate: 0.5 });
    const ids = Array.from({ length: 40 }, randomId);
    for (const sessionId of [...ids, ...ids]) pass_(event({ sessionId }));
    const kept = new Set(sent.map((e) => e.sessionId));
    expect(sent).toHaveLength(kept.size * 2);
    expect([...kept].every((id) => sampleOf(id) < 0.5)).toBe(true);
  });

  it.each([0, 0.1, 0.5, 0.9, 1])('tracks about %s of sessions', (rate) => {
    const { sent, pass_ } = gate({ sampleRate: rate });
    for (let i = 0; i < 2000; i++) pass_(event({ sessionId: randomId() }));
    expect(Math.abs(sent.length / 2000 - rate)).toBeLessThan(0.04);
  });
});

describe('scrubbing and beforeSend', () => {
  it('scrubs before anything is sent, unless turned off', () => {
    const url = 'https://s.example/?email=bob@example.com&utm_source=x&token=abc&ref=r';
    const on = gate({ scrubParams: ['ref'] });
    on.pass_(event({ url }));
    expect(on.sent[0].url).toBe(
      `https://s.example/?email=${MASK}&utm_source=x&token=${MASK}&ref=${MASK}`,
    );
    const off = gate({ scrub: false });
    off.pass_(event({ url }));
    expect(off.sent[0].url).toBe(url);
  });

  it('lets beforeSend change an event (after scrubbing) or drop it', () => {
    const seen: string[] = [];
    const { sent, pass_ } = gate({
      beforeSend: (e) => {
        seen.push(e.url);
        if (e.path == '/drop') return null;
        return { ...e, url: e.url + '&seen=1' };
      },
    });
    pass_(event({ url: 'https://s.example/?token=t' }));
    pass_(event({ path: '/drop' }));
    expect(seen[0]).toBe(`https://s.example/?token=${MASK}`);
    expect(sent.map((e) => e.url)).toEqual([`https://s.example/?token=${MASK}&seen=1`]);
    expect(gateStats.dropped).toBe(1);
  });

  it('drops the event of a throwing beforeSend, without throwing, and reports it in debug mode', () => {
    setDebug(true);
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const { sent, pass_ } = gate({
      beforeSend: () => {
        throw new Error('hook bug');
      },
    });
    expect(() => pass_(event())).not.toThrow();
    expect(sent).toEqual([]);
    expect(log.mock.calls.flat()).toContainEqual(expect.objectContaining({ message: 'hook bug' }));
  });
});
