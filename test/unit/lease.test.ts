import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Batch, TrackletEvent } from '../../src/types';

/** A tab: its own copy of Tracklet's modules (page id, memory), sharing this window's localStorage. */
const tab = async () => {
  vi.resetModules();
  const [lease, outbox, config] = await Promise.all([
    import('../../src/core/lease'),
    import('../../src/core/outbox'),
    import('../../src/config'),
  ]);
  const options = config.resolveConfig(
    { endpoint: 'https://c.example/collect', site: 's' },
    false,
  )!;
  return { ...lease, outbox: outbox.createOutbox(options) };
};

let serial = 0;
const events = (count: number): TrackletEvent[] =>
  Array.from({ length: count }, () => ({
    id: 'id' + serial++,
    type: 'event',
    name: 'e',
    timestamp: Date.now(),
    anonymousId: 'a',
    sessionId: 's',
    url: 'https://s.example/',
    path: '/',
  }));

/** A collector that answers after 50 ms, so that sends of two tabs overlap in time. */
const slowCollector = () => {
  const bodies: Batch[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (_url: string, init: RequestInit) => {
      bodies.push(JSON.parse(init.body as string));
      await new Promise((done) => setTimeout(done, 50));
      return new Response(null, { status: 204 });
    }),
  );
  return () => bodies.flatMap((body) => body.events.map((e) => e.id));
};

/** Web Locks as browsers implement them for one origin: requests for a name run one after another. */
const webLocks = () => {
  let tail = Promise.resolve();
  const request = vi.fn((_name: string, run: () => Promise<unknown>) => {
    const result = tail.then(run);
    tail = result.then(
      () => {},
      () => {},
    );
    return result;
  });
  vi.stubGlobal('navigator', { ...navigator, locks: { request }, sendBeacon: () => true });
  return request;
};

beforeEach(() => {
  localStorage.clear();
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('lease (no Web Locks)', () => {
  it('runs when no tab holds it, and releases it afterwards', async () => {
    const { lock } = await tab();
    const run = vi.fn(async () => expect(localStorage.getItem('tracklet:lease')).toBeTruthy());
    expect(await lock(run)).toBe(true);
    expect(run).toHaveBeenCalledOnce();
    expect(localStorage.getItem('tracklet:lease')).toBeNull();
  });

  it('skips its turn while another tab holds a fresh lease, and takes over an expired one', async () => {
    const { lock, LEASE_MS } = await tab();
    localStorage.setItem('tracklet:lease', 'other ' + (Date.now() + LEASE_MS));
    const run = vi.fn(async () => {});
    expect(await lock(run)).toBe(false);
    expect(run).not.toHaveBeenCalled();
    vi.advanceTimersByTime(LEASE_MS + 1);
    expect(await lock(run)).toBe(true);
    expect(run).toHaveBeenCalledOnce();
  });

  it('uses Web Locks where the browser has them', async () => {
    const request = webLocks();
    const { lock } = await tab();
    const run = vi.fn(async () => {});
    await lock(run);
    expect(request).toHaveBeenCalledWith('tracklet', run);
    expect(localStorage.getItem('tracklet:lease')).toBeNull();
  });
});

describe.each([
  ['a lease', () => {}],
  ['Web Locks', webLocks],
])('two tabs sharing one outbox under %s', (_, setup) => {
  it('send every event of both tabs, none twice', async () => {
    setup();
    const sent = slowCollector();
    const a = await tab();
    const b = await tab();
    const fromA = events(30);
    const fromB = events(30);
    for (let i = 0; i < 3; i++) {
      a.outbox.add(fromA.slice(i * 10, i * 10 + 10));
      b.outbox.add(fromB.slice(i * 10, i * 10 + 10));
      void a.outbox.drain();
      void b.outbox.drain();
      await vi.advanceTimersByTimeAsync(20);
    }
    await vi.advanceTimersByTimeAsync(5000);
    const ids = sent();
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual([...fromA, ...fromB].map((e) => e.id).sort());
    expect(Object.keys(localStorage).filter((key) => key.startsWith('tracklet:o:'))).toEqual([]);
  });
});
