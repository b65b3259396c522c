// The script tag on a hostile page: properties whose getters or Proxy traps throw, junk left in
// storage (segments, the session record), a stub queue holding junk, Web Locks that refuse, history
// methods made read-only, the second and third files loaded twice. Nothing throws into the page,
// bad input is warned about and dropped or repaired, every drop is counted, and the good events
// around it still arrive, once.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Batch } from '../../../src/types';
import { freshPageEachTest, loadTag, type Tracklet } from './load';

const win = window as unknown as { tracklet?: unknown };
let bodies: Batch[];
const names = () =>
  bodies
    .flatMap((body) => body.events)
    .map((event) => ('name' in event && event.name) || event.type);

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

describe('properties a page should not pass', () => {
  it('keeps the event, without its properties and with a warning, when a getter or a Proxy trap throws', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const tracklet = await loadTag({ 'data-auto-pageview': 'false' });
    const trap = () => {
      throw new Error('trap');
    };
    const proxy = new Proxy({}, { get: trap, ownKeys: trap, getOwnPropertyDescriptor: trap });
    tracklet.track('proxy', proxy);
    tracklet.track('getter', {
      get plan() {
        return trap();
      },
    });
    tracklet.identify('user-1', proxy);
    tracklet.page(proxy);
    await tracklet.flush();
    const events = bodies.flatMap((body) => body.events) as unknown as Record<string, unknown>[];
    expect(names()).toEqual(['proxy', 'getter', 'identify', 'pageview']);
    for (const event of events) expect(event.properties ?? event.traits).toBeUndefined();
    expect(warn.mock.calls.filter((call) => call[1] == 'properties dropped:')).toHaveLength(4);
  });
});

describe('storage a page wrote', () => {
  it('drops, and counts, a stored segment holding junk, and sends the rest', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const good = { id: 'left-1', type: 'event', name: 'left', timestamp: Date.now() - 1000 };
    localStorage.setItem('tracklet:o:0', '[1,"x",null]');
    localStorage.setItem('tracklet:o:1', JSON.stringify([0, null, good]));
    const tracklet = await loadTag({ 'data-debug': 'true' });
    tracklet.track('after');
    await tracklet.flush();
    expect(names()).toEqual(['left', 'pageview', 'after']);
    const dropped = log.mock.calls.filter((call) => call[1] == 'dropped');
    expect(dropped.map((call) => call[2]).sort()).toEqual([1, 2]);
    expect(Object.keys(localStorage).filter((key) => key.startsWith('tracklet:o:'))).toEqual([]);
  });
});

describe('storage a page wrote: the session record', () => {
  it('drops, and counts, the event whose stored attribution is of another shape; the start goes on', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const session = { id: 'abc', last: Date.now(), campaign: '', pending: { utm_source: 5 } };
    localStorage.setItem('tracklet:session', JSON.stringify(session));
    let tracklet!: Tracklet;
    await expect(
      loadTag({ 'data-debug': 'true' }).then((t) => (tracklet = t)),
    ).resolves.toBeDefined();
    tracklet.track('first');
    tracklet.track('second');
    await tracklet.flush();
    expect(names()).toEqual(['first', 'second']);
    expect(bodies[0].events[0].sessionId).toBe('abc');
    expect(log.mock.calls.filter((call) => call[1] == 'dropped')).toHaveLength(1);
  });
});

describe('Web Locks that refuse', () => {
  it('sends without the lock when navigator.locks.request rejects, on every flush', async () => {
    const request = vi.fn(() => Promise.reject(new DOMException('opaque origin', 'SecurityError')));
    Object.defineProperty(navigator, 'locks', { configurable: true, value: { request } });
    try {
      const tracklet = await loadTag({});
      await tracklet.flush();
      tracklet.track('after');
      await tracklet.flush();
      expect(names()).toEqual(['pageview', 'after']);
      expect(request).toHaveBeenCalledTimes(2);
    } finally {
      delete (navigator as { locks?: unknown }).locks;
    }
  });
});

describe('a stub queue holding junk', () => {
  const stubbed = (q: unknown) => {
    win.tracklet = Object.assign(() => {}, { q });
  };

  it('skips the items that are not lists of arguments, and replays the others', async () => {
    const throwing = (function (..._: unknown[]) {
      // eslint-disable-next-line prefer-rest-params
      return arguments;
    })('track', 'x');
    Object.defineProperty(throwing, 0, {
      get: () => {
        throw new Error('getter');
      },
    });
    stubbed([5, null, ['track', 'first'], throwing, Symbol('s'), ['track', 'second']]);
    let tracklet!: Tracklet;
    await expect(loadTag({}).then((loaded) => (tracklet = loaded))).resolves.toBeDefined();
    tracklet.track('after');
    await tracklet.flush();
    expect(names()).toEqual(['pageview', 'first', 'second', 'after']);
  });

  it.each([5, {}, Symbol('q')])('starts when the queue is not an array (%s)', async (q) => {
    stubbed(q);
    const tracklet = await loadTag({});
    tracklet.track('after');
    await tracklet.flush();
    expect(names()).toEqual(['pageview', 'after']);
  });
});

describe('history methods a page made read-only', () => {
  it('starts without wrapping them, and still follows navigations by popstate', async () => {
    const { pushState } = history;
    Object.defineProperty(history, 'pushState', {
      configurable: true,
      writable: false,
      value: pushState,
    });
    try {
      let tracklet!: Tracklet;
      await expect(loadTag({}).then((t) => (tracklet = t))).resolves.toBeDefined();
      history.pushState(null, '', '/next');
      dispatchEvent(new PopStateEvent('popstate'));
      tracklet.track('after');
      await tracklet.flush();
      const events = bodies.flatMap((body) => body.events);
      expect(events.map((event) => [event.type, event.path])).toEqual([
        ['pageview', '/'],
        ['pageview', '/next'],
        ['event', '/next'],
      ]);
    } finally {
      delete (history as { pushState?: unknown }).pushState;
    }
  });
});

describe('the second and third files loaded twice (a page adding its own tag for them)', () => {
  it('attaches the captures of the second file once: one error is reported once', async () => {
    const tracklet = await loadTag({ 'data-errors': 'true' });
    await import('../../../src/captures');
    vi.resetModules();
    await import('../../../src/captures');
    dispatchEvent(new ErrorEvent('error', { message: 'boom', error: new Error('boom') }));
    // The errors capture reports a second after the first of a kind.
    await new Promise((done) => setTimeout(done, 1100));
    await tracklet.flush();
    expect(names()).toEqual(['pageview', 'error']);
  });

  it("starts the third file's features once, and warns about the second copy", async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const tracklet = await loadTag({ 'data-forms': 'true' });
    await import('../../../src/marketing');
    vi.resetModules();
    await import('../../../src/marketing');
    const form = document.createElement('form');
    document.body.append(form);
    form.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
    form.remove();
    await tracklet.flush();
    expect(names()).toEqual(['pageview', 'form_submit']);
    expect(warn).toHaveBeenCalledWith('[tracklet]', 'unknown method', 'boot');
  });
});
