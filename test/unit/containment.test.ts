import { describe, expect, it, vi } from 'vitest';
import { resolveConfig } from '../../src/config';
import { createTracker } from '../../src/tracker';

describe('containment', () => {
  it('contains a throwing capture and hook, reports them in debug mode, and keeps tracking', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const bodies: string[] = [];
    vi.stubGlobal(
      'fetch',
      async (_url: string, init: RequestInit) => (
        bodies.push(init.body as string),
        new Response(null, { status: 204 })
      ),
    );
    const config = resolveConfig(
      { endpoint: '/c', site: 's', debug: true, flushInterval: 0, includeLocal: true },
      false,
    )!;
    config.capture = [
      () => {
        throw new Error('capture failed');
      },
      (context) =>
        context.on('pageview', () => {
          throw new Error('hook failed');
        }),
    ];
    let tracker!: ReturnType<typeof createTracker>;
    expect(() => (tracker = createTracker(config))).not.toThrow();
    expect(log).toHaveBeenCalledWith(
      '[tracklet]',
      'internal error',
      expect.objectContaining({ message: 'capture failed' }),
    );
    expect(log).toHaveBeenCalledWith(
      '[tracklet]',
      'internal error',
      expect.objectContaining({ message: 'hook failed' }),
    );
    tracker.track(42 as never);
    expect(warn).toHaveBeenCalledWith('[tracklet]', expect.stringContaining('event name'), 42);
    tracker.track('after', { n: 1 });
    await tracker.flush();
    const events = bodies.flatMap((body) => JSON.parse(body).events);
    expect(
      events.map((event: { type: string; name?: string }) => event.name || event.type),
    ).toEqual(['pageview', 'after']);
    vi.unstubAllGlobals();
  });
});
