// The script tag's entry (src/script.ts): the stub's queue replayed in order, the double-paste
// guard, and the options read from the tag's data-* attributes.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Batch } from '../../../src/types';
import { loadTag, type Tracklet } from './load';

const win = window as unknown as { tracklet?: Tracklet };
const load = loadTag;

const { pushState, replaceState } = history;
let bodies: Batch[];
beforeEach(() => {
  localStorage.clear();
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
  Object.assign(history, { pushState, replaceState });
  vi.unstubAllGlobals();
});
const events = () => bodies.flatMap((body) => body.events);

describe('the first file on a page', () => {
  it("replays the stub's queue in order, the identify before the event", async () => {
    const stub = Object.assign(() => {}, {
      q: [
        ['identify', 'user-7', { plan: 'pro' }],
        ['track', 'early', { n: 1 }],
      ],
    });
    win.tracklet = stub as unknown as Tracklet;
    const tracklet = await load({});
    expect(tracklet).not.toBe(stub);
    expect(tracklet.version).toBe('0.1.0');
    await tracklet.flush();
    expect(events().map((event) => event.type)).toEqual(['pageview', 'identify', 'event']);
    expect(events()[2]).toMatchObject({ name: 'early', properties: { n: 1 }, userId: 'user-7' });
    expect(bodies[0]).toMatchObject({ v: 1, site: 's' });
  });

  it('runs once when pasted twice: the second copy leaves the first alone', async () => {
    const first = await load({});
    const second = await load({ 'data-site': 'other' });
    expect(second).toBe(first);
    first.track('once');
    await first.flush();
    expect(new Set(bodies.map((body) => body.site))).toEqual(new Set(['s']));
    expect(events().filter((event) => event.type == 'pageview')).toHaveLength(1);
  });

  it('reads its options from the attributes: data-auto-pageview="false" and data-batch-size', async () => {
    const tracklet = await load({ 'data-auto-pageview': 'false', 'data-batch-size': '2' });
    tracklet.track('a');
    tracklet.track('b');
    await vi.waitFor(() => expect(events().map((event) => event.type)).toEqual(['event', 'event']));
  });

  it('repairs a number option that is not one, or out of range, to its default with a warning', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    // Taken as they were, "7d" would expire every stored event and "-5" would lift the outbox cap.
    const tracklet = await load({
      'data-outbox-max-age': '7d',
      'data-outbox-max-events': '-5',
      'data-batch-size': '0',
      'data-session-timeout': '30',
    });
    tracklet.track('kept');
    await tracklet.flush();
    expect(events().map((event) => event.type)).toEqual(['pageview', 'event']);
    const warned = warn.mock.calls.map((call) => call.slice(1, 3).join(' '));
    expect(warned.sort()).toEqual(['batchSize 0', 'outboxMaxAge 7d', 'outboxMaxEvents -5']);
    warn.mockRestore();
  });

  it('takes no function option from an attribute: data-before-send does not drop every event', async () => {
    const tracklet = await load({
      'data-before-send': 'x',
      'data-capture': 'y',
      'data-encode': 'z',
    });
    tracklet.track('kept');
    await tracklet.flush();
    expect(events().map((event) => event.type)).toEqual(['pageview', 'event']);
    expect(bodies[0]).toMatchObject({ v: 1 });
  });

  it('stays inert with one warning when data-endpoint is not an http(s) URL, and never throws', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const tracklet = await load({ 'data-endpoint': 'javascript:alert(1)' });
    expect(() => tracklet.track('ignored')).not.toThrow();
    expect(() => tracklet('nonsense', 1)).not.toThrow();
    await tracklet.flush();
    expect(bodies).toEqual([]);
    expect(warn.mock.calls.filter((call) => String(call).includes('data-endpoint'))).toHaveLength(
      1,
    );
    warn.mockRestore();
  });
});
