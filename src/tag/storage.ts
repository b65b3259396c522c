/**
 * The first file's storage: localStorage under the same `tracklet:` keys as `core/storage.ts` (a
 * page upgraded mid-visit keeps its ids, session and unsent events), and this page's memory where
 * storage is refused, throws, or may not be used yet (consent, privacy signals, cookieless mode).
 */

/** What this page keeps in memory: one copy, which `core/storage.ts` shares. */
export const memory: Record<string, string> = {};

/** What may reach localStorage: 0 nothing, 1 only the consent record, 2 everything. */
let level = 2;
const persists = (key: string) => level > 1 || (level && key == 'consent');

/**
 * Sets what may reach localStorage. Raised to everything (consent granted), it copies what was
 * kept in memory meanwhile, so that the ids of the events sent on grant carry over to the next page.
 */
export const setLevel = (to: number): void => {
  level = to;
  if (to > 1) for (const key in memory) write(key, memory[key]);
};

export const read = (key: string): string | null => {
  let value: string | null | undefined;
  try {
    if (persists(key)) value = localStorage.getItem('tracklet:' + key);
  } catch {
    // Storage blocked: the memory copy is all there is.
  }
  return value ?? memory[key] ?? null;
};

/** Stores a value (in memory when localStorage refuses it). */
export const write = (key: string, value: string): void => {
  memory[key] = value;
  try {
    // Stored: no memory copy, which would outlive another tab's removal of the key.
    if (persists(key)) (localStorage.setItem('tracklet:' + key, value), delete memory[key]);
  } catch {
    // Quota or blocked storage: the value lives in memory for this page.
  }
};

export const remove = (key: string): void => {
  delete memory[key];
  try {
    localStorage.removeItem('tracklet:' + key);
  } catch {
    // Nothing stored to remove.
  }
};

/** Every key Tracklet holds that starts with `start`, in localStorage or this page's memory, sorted. */
export const keys = (start = ''): string[] => {
  const all = new Set(Object.keys(memory));
  try {
    for (const key of Object.keys(localStorage))
      if (key.startsWith('tracklet:')) all.add(key.slice(9));
  } catch {
    // Storage blocked: only this page's memory holds anything.
  }
  return [...all].filter((key) => key.startsWith(start)).sort();
};
