/** Debug logging, switched on by `data-debug` / `debug: true`. Warnings always print. */
let enabled = false;

/** Turns debug logging on or off. */
export const setDebug = (on: boolean): void => {
  enabled = on;
};

/** Logs one pipeline step (enqueue, send, drop…) when debug mode is on. */
export const log = (...args: unknown[]): void => {
  if (enabled) console.log('[tracklet]', ...args);
};

/** A problem the site owner should fix: always printed, once per call. */
export const warn = (...args: unknown[]): void => {
  console.warn('[tracklet]', ...args);
};
