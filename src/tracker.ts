/**
 * The npm build's tracker: the first file's (`tag/tracker.ts`), one tracker for both builds, with
 * what the npm build adds to it: the debug switch, the `exclude` and `sampleRate` options (which the
 * script tag leaves to its third file), and request bodies in wire version 2 (the fields every
 * event of a body shares sent once; `core/outbox.ts`), as the npm build has always sent them.
 */
import type { Capture, Config } from './core/contract';
import type { Properties } from './types';
import { setDebug } from './core/log';
import { wireBatch } from './core/outbox';
import { filterOf } from './core/privacy';
import { createTracker as createTagTracker, type TagConfig } from './tag/tracker';

/** The public API of a started tracker. */
export interface Tracker {
  track(name: string, properties?: Properties): void;
  page(properties?: Properties): void;
  identify(userId: string, traits?: Properties): void;
  flush(): Promise<void>;
  reset(): void;
  getAnonymousId(): string;
  getSessionId(): string;
  consent(granted: boolean): void;
  /** Starts a capture that arrived after the tracker (the script tag's second file). */
  attach(capture: Capture): void;
  /** Stops the captures, removes the tracker's listeners and timers, and queues nothing more (TEARDOWN builds). */
  stop?(): void;
}

/** Starts a tracker with a validated config: captures first, then the hide-time flush. */
export const createTracker = (config: Config): Tracker => {
  setDebug(config.debug);
  config.encode ||= wireBatch;
  (config as TagConfig).filter = filterOf(config);
  return createTagTracker(config) as unknown as Tracker;
};
