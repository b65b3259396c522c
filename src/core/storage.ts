import { parse, stringify } from './sanitize';

/**
 * localStorage with a memory fallback: storage that is absent or throws (blocked cookies,
 * sandboxed iframes, Safari private mode, quota) degrades to per-page memory, never to an error.
 */
const memory: Record<string, string> = {};
let persist = true;

/** Keys are namespaced so that `reset()` and consent denial can clear exactly Tracklet's data. */
export const PREFIX = 'tracklet:';

/** Switches persistence off (cookieless mode, consent not given): values then live in memory. */
export const setPersist = (on: boolean): void => {
  persist = on;
};

export const read = (key: string): string | null => {
  if (persist) {
    try {
      const value = localStorage.getItem(PREFIX + key);
      if (value != null) return value;
    } catch {
      // Storage blocked: the memory copy below is all there is.
    }
  }
  return key in memory ? memory[key] : null;
};

/** Stores a value; returns false when it could only be kept in memory. */
export const write = (key: string, value: string): boolean => {
  memory[key] = value;
  if (persist) {
    try {
      localStorage.setItem(PREFIX + key, value);
      return true;
    } catch {
      // Quota or blocked storage: the value lives in memory for this page.
    }
  }
  return false;
};

export const remove = (key: string): void => {
  delete memory[key];
  try {
    localStorage.removeItem(PREFIX + key);
  } catch {
    // Nothing stored to remove.
  }
};

export const readJSON = <T>(key: string): T | undefined => {
  try {
    return parse(read(key)!) ?? undefined;
  } catch {
    return undefined;
  }
};

export const writeJSON = (key: string, value: unknown): boolean => write(key, stringify(value));
