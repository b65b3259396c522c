/**
 * Erased visitors: their later events are dropped at ingest, counted. The list is loaded before the
 * first ingest and read again at most a minute later (another relay on the same database may erase).
 */
import type { Store } from './store';

/** Suppressed ids, as sets. */
export interface SuppressedIds {
  anonymousIds: Set<string>;
  userIds: Set<string>;
}

/** The relay's copy of the store's suppression list. */
export interface Suppression {
  /** The list, loaded first if it never was; rejects when the store cannot be read. */
  current(): Promise<SuppressedIds>;
  /** Reads the list again now (after an erasure). */
  reload(): Promise<void>;
}

/** True when the event belongs to a suppressed visitor. */
export const isSuppressed = (
  event: { anonymousId?: unknown; userId?: unknown },
  ids: SuppressedIds,
): boolean =>
  (typeof event.anonymousId == 'string' && ids.anonymousIds.has(event.anonymousId)) ||
  (typeof event.userId == 'string' && ids.userIds.has(event.userId));

/** The ids of an erasure result as sets. */
export const idSets = (ids: { anonymousIds: string[]; userIds: string[] }): SuppressedIds => ({
  anonymousIds: new Set(ids.anonymousIds),
  userIds: new Set(ids.userIds),
});

/** Keeps the suppression list of `store`, read again at most every `maxAgeMs`. */
export function createSuppression(store: Store, maxAgeMs = 60_000): Suppression {
  let suppressed: SuppressedIds = { anonymousIds: new Set(), userIds: new Set() };
  let loaded: Promise<void> | undefined;
  let loadedAt = 0;
  const reload = () =>
    // A store written before erasure existed has no suppression list.
    (store.suppressed?.() ?? Promise.resolve({ anonymousIds: [], userIds: [] })).then((ids) => {
      suppressed = idSets(ids);
      loadedAt = Date.now();
    });
  const current = async () => {
    if (!loaded)
      loaded = reload().catch((error) => {
        // Tried again by the next request.
        loaded = undefined;
        throw error;
      });
    else if (Date.now() - loadedAt > maxAgeMs) void reload().catch(() => {});
    await loaded;
    return suppressed;
  };
  return { current, reload };
}
