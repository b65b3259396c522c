/**
 * Each event's JSON, made once: the store writes it inside the stored row, and the webhooks send it
 * again (to several destinations, or in a narrowed batch) without serialising the event again.
 */
import type { StoredEvent } from './store';

/**
 * Where an object keeps its JSON: a symbol-keyed property that is not enumerable, so JSON,
 * `Object.keys` and copies never see it (cheaper than a WeakMap of every event, which the garbage
 * collector walks).
 */
const JSON_TEXT = Symbol('tracklet.json');

/** `JSON.stringify(value)` of an object, remembered on the object (made once). */
export const jsonOnce = (value: object): string => {
  let text = (value as { [JSON_TEXT]?: string })[JSON_TEXT];
  if (text !== undefined) return text;
  text = JSON.stringify(value);
  // A frozen object is serialised each time instead.
  if (Object.isExtensible(value))
    Object.defineProperty(value, JSON_TEXT, { value: text, configurable: true });
  return text;
};

/**
 * The stored row's JSON: `JSON.stringify` of the stored event without `sendIp` (the same text, key
 * for key), with the event's own JSON from `jsonOnce`, so delivery reuses it.
 */
export const storedJson = (stored: StoredEvent): string => {
  let text = '';
  for (const key of Object.keys(stored)) {
    if (key == 'sendIp') continue;
    const value = (stored as unknown as Record<string, unknown>)[key];
    const json =
      key == 'event' && value && typeof value == 'object'
        ? jsonOnce(value)
        : (JSON.stringify(value) as string | undefined);
    // What JSON.stringify leaves out of an object: undefined, functions, symbols.
    if (json === undefined) continue;
    text += `${text ? ',' : '{'}${JSON.stringify(key)}:${json}`;
  }
  return text ? `${text}}` : '{}';
};
