import { log } from './log';

/** Failures inside Tracklet, counted in the debug build so that it can show them. */
export const failures = { count: 0 };

/** Counts a failure caught at the boundary, and logs it, in the debug build. */
export const failed = (error: unknown): void => {
  if (DEBUG) (failures.count++, log('internal error', error));
};

/**
 * Wraps a function that the outside world calls (public API, event listeners) so that nothing
 * Tracklet does can throw into the host page. A failure is counted, and logged in the debug build.
 */
export const safe =
  <A extends unknown[], R>(fn: (...args: A) => R) =>
  (...args: A): R | undefined => {
    try {
      return fn(...args);
    } catch (error) {
      failed(error);
    }
  };
