import { parse, stringify } from './sanitize';
import { memory } from '../tag/storage';

/**
 * localStorage with a memory fallback: storage that is absent or throws (blocked cookies,
 * sandboxed iframes, Safari private mode, quota) degrades to per-page memory, never to an error.
 * Tracklet sets no cookies and uses no sessionStorage in any mode. The memory copy is the page's
 * one, shared with the tracker's storage (`tag/storage.ts`): clearing here clears it there.
 */

/** How much of what Tracklet keeps reaches localStorage; the rest lives in memory for the page. */
export const enum Persist {
  /** Cookieless mode, or a visitor who asked not to be tracked: nothing. */
  None,
  /** Consent pending or denied: only the consent record (the visitor's choice itself). */
  Consent,
  /** Everything: ids, session, the consent record, and whatever the pipeline keeps. */
  All,
}

let level = Persist.All;

/**
 * Values read during this task. A burst of events (1,000 `track()` calls in a loop) reads storage
 * once; the next task reads afresh, so another tab's writes (which arrive between tasks) are seen.
 */
let cache: Record<string, string | null> | undefined;
const forgetRead = (key?: string) => {
  if (cache) key == null ? (cache = undefined) : delete cache[key];
};

/** Keys are namespaced so that `reset()` and consent denial can clear exactly Tracklet's data. */
export const PREFIX = 'tracklet:';

/** The visitor's consent choice: `'1'` granted, `'0'` denied. */
export const CONSENT_KEY = 'consent';

const persists = (key: string): boolean =>
  level == Persist.All || (level == Persist.Consent && key == CONSENT_KEY);

/**
 * Sets what may reach localStorage. Raising it to `All` (consent granted) copies what was kept in
 * memory meanwhile, so that the ids of the events sent on grant carry over to the next page.
 */
export const setPersist = (to: Persist): void => {
  level = to;
  forgetRead();
  if (to == Persist.All) for (const key in memory) write(key, memory[key]);
};

/** Whether values written now reach localStorage (for stores that keep data of their own). */
export const persisting = (): boolean => level == Persist.All;

export const read = (key: string): string | null => {
  if (cache && key in cache) return cache[key];
  let value: string | null = null;
  if (persists(key)) {
    try {
      value = localStorage.getItem(PREFIX + key);
    } catch {
      // Storage blocked: the memory copy below is all there is.
    }
  }
  if (value == null) value = key in memory ? memory[key] : null;
  if (!cache) {
    cache = {};
    queueMicrotask(() => (cache = undefined));
  }
  return (cache[key] = value);
};

/** Stores a value; returns false when it could only be kept in memory. */
export const write = (key: string, value: string): boolean => {
  memory[key] = value;
  forgetRead(key);
  if (persists(key)) {
    try {
      localStorage.setItem(PREFIX + key, value);
      // Stored: no memory copy, which would outlive another tab's removal of the key (a confirmed
      // segment) and grow for the life of the page.
      delete memory[key];
      return true;
    } catch {
      // Quota or blocked storage: the value lives in memory for this page.
    }
  }
  return false;
};

export const remove = (key: string): void => {
  delete memory[key];
  forgetRead(key);
  try {
    localStorage.removeItem(PREFIX + key);
  } catch {
    // Nothing stored to remove.
  }
};

/**
 * Every key Tracklet holds that starts with `start`, in localStorage or in this page's memory
 * (where storage refused it), sorted. Another tab's keys are in it once localStorage has them.
 */
export const keys = (start = ''): string[] => {
  const all = new Set(Object.keys(memory));
  try {
    // Keys are collected first: removing while iterating by index would skip some.
    for (const key of Object.keys(localStorage))
      if (key.startsWith(PREFIX)) all.add(key.slice(PREFIX.length));
  } catch {
    // Storage blocked: only this page's memory holds anything.
  }
  return [...all].filter((key) => key.startsWith(start)).sort();
};

/** Removes everything Tracklet keeps, in memory and in localStorage (every `tracklet:` key). */
export const clear = (): void => keys().forEach(remove);

export const readJSON = <T>(key: string): T | undefined => {
  try {
    return parse(read(key)!) ?? undefined;
  } catch {
    return undefined;
  }
};

export const writeJSON = (key: string, value: unknown): boolean => write(key, stringify(value));
