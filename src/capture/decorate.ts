import type { Config } from '../core/contract';
import type { TrackletEvent } from '../types';
import { safe } from '../core/safe';

/**
 * Puts `step` in front of the config's `beforeSend` (the page's own hook, if any, still runs after
 * it and sees its result). The gate reads `beforeSend` for each event, after scrubbing and before
 * consent, so what a step adds waits for consent like the rest. Returns a function that takes the
 * step out again. A step that throws leaves the event as it was.
 */
export const beforeEach = (config: Config, step: (event: TrackletEvent) => void): (() => void) => {
  const next = config.beforeSend;
  let on = true;
  const run = safe(step);
  config.beforeSend = (event) => {
    if (on) run(event);
    return next ? next(event) : event;
  };
  return () => {
    on = false;
  };
};
