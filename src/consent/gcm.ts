/**
 * Google Consent Mode v2 as the consent source (`data-consent-source="gcm"` with
 * `data-consent="required"`, or `gcm()` on npm): the choice is `analytics_storage` in the
 * `dataLayer`'s `gtag('consent', 'default' | 'update', {…})` commands, those already there and those
 * pushed later. `update` granted sends what waited, `update` denied drops and clears (as
 * `consent()`); a `default` granted grants, a `default` denied leaves the choice pending (it is no
 * choice of the visitor's: the banner's `update` follows). A `default` limited to regions is
 * skipped (the page cannot know the visitor's region).
 */
import type { Capture } from '../core/contract';
import { log } from '../core/log';
import { safe } from '../core/safe';

type DataLayer = unknown[] & { push: (...items: unknown[]) => number };

/** The consent command of a dataLayer item (`arguments` of `gtag()`), as `[command, analytics_storage]`. */
export const consentCommand = (
  item: unknown,
): ['default' | 'update', 'granted' | 'denied'] | undefined => {
  if (!item || typeof item != 'object' || typeof (item as ArrayLike<unknown>).length != 'number')
    return;
  const [name, command, settings] = Array.from(item as ArrayLike<unknown>) as [
    unknown,
    unknown,
    Record<string, unknown>,
  ];
  if (
    name != 'consent' ||
    (command != 'default' && command != 'update') ||
    !settings ||
    typeof settings != 'object'
  )
    return;
  const value = settings.analytics_storage;
  if (value != 'granted' && value != 'denied') return;
  if (command == 'default' && settings.region != null) return;
  return [command, value] as ['default' | 'update', 'granted' | 'denied'];
};

/**
 * The capture: reads the commands in `window[name]` (default `dataLayer`) and follows the ones
 * pushed later, also when a tag manager replaces the array's `push` after Tracklet (the property
 * is kept as an accessor that wraps each new `push`).
 */
export const gcm =
  (name = 'dataLayer'): Capture =>
  ({ consent }) => {
    if (!consent) return;
    const global = window as unknown as Record<string, DataLayer | undefined>;
    const layer = (global[name] ||= [] as unknown as DataLayer);
    let last: boolean | undefined;
    let stopped = false;
    const see = (item: unknown) => {
      const command = consentCommand(item);
      if (!command || stopped) return;
      const [kind, value] = command;
      // A default denied is no choice; a default granted and every update are.
      if (kind == 'default' && value == 'denied') return;
      const granted = value == 'granted';
      if (granted === last) return;
      last = granted;
      if (DEBUG) log('consent mode:', kind, value);
      consent(granted);
    };
    for (const item of Array.from(layer)) safe(see)(item);
    let inner = layer.push;
    let depth = 0;
    // A push installed over this one usually calls the one it replaced (this): that inner call
    // pushes plainly, and only the outer call reads the items, so each is seen once.
    const wrapped = function (...items: unknown[]) {
      if (depth) return Array.prototype.push.apply(layer, items);
      depth++;
      try {
        return inner.apply(layer, items);
      } finally {
        depth--;
        for (const item of items) safe(see)(item);
      }
    };
    try {
      Object.defineProperty(layer, 'push', {
        configurable: true,
        get: () => wrapped,
        set: (push) => (inner = push),
      });
    } catch {
      layer.push = wrapped;
    }
    return () => {
      stopped = true;
    };
  };
