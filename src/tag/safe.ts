import { log } from '../core/log';

/**
 * Wraps a function the outside world calls (public API, listeners, timers) so that nothing the
 * first file does can throw into the page; a failure is logged in the debug build.
 */
export const safe =
  <A extends unknown[], R>(fn: (...args: A) => R) =>
  (...args: A): R | undefined => {
    try {
      return fn(...args);
    } catch (error) {
      if (DEBUG) log('internal error', error);
    }
  };
