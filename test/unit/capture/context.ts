/**
 * A capture's view of the tracker, for unit tests: records emitted events and flushes, and lets the
 * test fire the lifecycle hooks the tracker would.
 */
import { resolveConfig } from '../../../src/config';
import type {
  Capture,
  Context,
  EventFields,
  Hooks,
  TrackletOptions,
} from '../../../src/core/contract';
import type { TrackletEvent } from '../../../src/types';
import { safe } from '../../../src/core/safe';

export interface TestContext {
  context: Context;
  events: TrackletEvent[];
  flushes: number;
  /** When set, `emit` throws, as a broken pipeline would. */
  failing: boolean;
  fire<K extends keyof Hooks>(hook: K, ...args: Hooks[K]): void;
  /** Sends a pageview the way the tracker does: hook `page`, the event, hook `pageview`. */
  pageview(path?: string): TrackletEvent;
}

let ids = 0;

/** Starts `capture` against a recording context; `options` adds to endpoint and site. */
export const startCapture = (
  capture: Capture,
  options: Partial<TrackletOptions> = {},
): TestContext => {
  const handlers: { [K in keyof Hooks]?: ((...args: Hooks[K]) => void)[] } = {};
  const test: TestContext = {
    events: [],
    flushes: 0,
    failing: false,
    context: {
      config: resolveConfig(
        { endpoint: 'https://c.example/collect', site: 's', ...options },
        false,
      )!,
      emit: (fields: EventFields) => {
        if (test.failing) throw new Error('pipeline failure');
        const event = {
          id: 'e' + ++ids,
          timestamp: Date.now(),
          url: location.href,
          path: location.pathname,
          ...fields,
        } as TrackletEvent;
        test.events.push(event);
        return event;
      },
      on: (hook, handler) => {
        ((handlers[hook] ||= []) as (typeof handler)[]).push(handler);
      },
      path: () => location.pathname,
      flush: () => {
        test.flushes++;
      },
    },
    // Like the tracker, which runs each hook handler inside safe().
    fire: (hook, ...args) => handlers[hook]?.forEach((handler) => safe(handler)(...args)),
    pageview: (path) => {
      // As in the tracker: the URL has already changed when the old page view ends.
      if (path) history.pushState({}, '', path);
      test.fire('page');
      const event = test.context.emit({ type: 'pageview', title: '', referrer: '' });
      test.fire('pageview', event);
      return event;
    },
  };
  capture(test.context);
  return test;
};
