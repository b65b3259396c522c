/**
 * Growlytics `/track/event`: one event per request with `x-growlytics-key`, `customerId`, `name`
 * (< 50 characters), `time` (epoch ms) and `attributes` (≤ 50; string, number, boolean, or a date
 * as an ISO string). Events are repaired, not rejected: nulls dropped, objects and arrays turned to
 * JSON strings, names shortened, extra attributes dropped, and an attribute keeps one type (the API
 * silently ignores one whose type changes): declared in the config (`attributeTypes`), else the
 * built-in commerce numbers, else the type it was first sent with (up to 1,000 names remembered),
 * else its value's own. Repairs are counted in status.
 */
import type { TrackletEvent } from '../../types';
import type { StoredEvent } from '../store';
import type { ConfigOf, Destination, Outcome } from './types';
import { commerceName, compact, isKnownEvent, join, outcome, propertiesOf } from './util';

/** The document's API host. */
export const GROWLYTICS_URL = 'https://dc.growlytics.in';
const MAX_ATTRIBUTES = 50;
const MAX_NAME = 49;
/** The state key (not a visitor id) under which the type of each attribute name is remembered. */
const TYPES_KEY = '*attribute-types*';

type AttributeType = 'string' | 'number' | 'boolean';
type Attributes = Record<string, string | number | boolean>;

const NAMES: Record<string, string> = {
  product_view: 'Product Viewed',
  add_to_cart: 'Add To Cart',
  checkout_start: 'Checkout Started',
  purchase: 'Purchase',
  conversion: 'Conversion',
  search: 'Search',
  login: 'Login',
};

/** The event name Growlytics gets (before shortening). */
export const growlyticsName = (event: TrackletEvent): string =>
  event.type == 'event'
    ? (NAMES[commerceName(event) ?? ''] ?? event.name)
    : {
        pageview: 'Page Viewed',
        identify: 'Identify',
        vital: 'Web Vital',
        error: 'Error',
        engagement: 'Engagement',
      }[event.type];

/** The raw attributes of an event, before repair. */
const rawAttributes = ({ event }: StoredEvent): Record<string, unknown> => {
  const page = { url: event.url, path: event.path, ...event.attribution };
  switch (event.type) {
    case 'pageview':
      return {
        ...page,
        title: event.title,
        referrer: event.referrer,
        ...event.properties,
        ...(event.status && { status: event.status }),
      };
    case 'vital':
      return {
        ...page,
        metric_name: event.metricName,
        metric_value: event.metricValue,
        rating: event.rating,
        metric_id: event.metricId,
        navigation_type: event.navigationType,
      };
    case 'error':
      return {
        ...page,
        ...compact({
          message: event.message,
          error_type: event.errorType,
          filename: event.filename,
          lineno: event.lineno,
          colno: event.colno,
          count: event.count,
        }),
      };
    case 'engagement':
      return {
        ...page,
        engagement_time_ms: Math.round(event.engagementTime),
        scroll_depth: event.scrollDepth,
        interaction_count: event.interactionCount,
        pageview_id: event.pageviewId,
      };
    default:
      return { ...page, ...propertiesOf(event) };
  }
};

const coerce = (
  value: string | number | boolean,
  type: AttributeType,
): string | number | boolean | undefined => {
  if (type == 'string') return String(value);
  if (type == 'number') {
    const n = typeof value == 'boolean' ? undefined : Number(value);
    return n != undefined && Number.isFinite(n) && String(value).trim() != '' ? n : undefined;
  }
  return value === 'true' ? true : value === 'false' ? false : undefined;
};

/** The types an attribute can have; `AttributeTypes` maps names to them. */
export type AttributeTypes = Record<string, AttributeType>;

/** The commerce properties (src/commerce.ts) that are numbers, whatever a first sender made of them. */
const BUILT_IN: AttributeTypes = {
  price: 'number',
  value: 'number',
  quantity: 'number',
  amount: 'number',
  revenue: 'number',
};

/** Most attribute names whose type is remembered; past it, new names are typed by each value alone. */
export const MAX_REMEMBERED = 1000;

/**
 * A map without a prototype (`constructor`, `toString`, `__proto__` are names like any other), of
 * at most `limit` names.
 */
export const typeMap = (
  sources: (AttributeTypes | undefined)[],
  limit = Infinity,
): AttributeTypes => {
  const map = Object.create(null) as AttributeTypes;
  let size = 0;
  for (const source of sources)
    for (const [name, type] of Object.entries(source ?? {})) {
      if (type != 'string' && type != 'number' && type != 'boolean') continue;
      // A later source overrides an earlier one (the config over the built-in types).
      if (!Object.hasOwn(map, name)) {
        if (size >= limit) continue;
        size++;
      }
      define(map, name, type);
    }
  return map;
};

/** Sets a key as an own data property (plain assignment to `__proto__` would change the prototype). */
const define = <T>(target: Record<string, T>, key: string, value: T) =>
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });

const own = <T>(map: Record<string, T> | undefined, key: string): T | undefined =>
  map && Object.hasOwn(map, key) ? map[key] : undefined;

/**
 * Repairs attributes to Growlytics' rules. An attribute's type comes from `declared` (the config's
 * `attributeTypes`, then the built-in commerce numbers), else from `types` (the type it was first
 * sent with, as Growlytics itself keeps it), else from its value; new names are remembered in
 * `types` up to `MAX_REMEMBERED`. Returns the attributes and how many repairs were made.
 */
export const repairAttributes = (
  raw: Record<string, unknown>,
  types: AttributeTypes,
  declared: AttributeTypes = BUILT_IN,
): { attributes: Attributes; repairs: number } => {
  const attributes: Attributes = {};
  let kept = 0;
  let repairs = 0;
  for (const [name, original] of Object.entries(raw)) {
    let value: string | number | boolean | undefined;
    if (original == null || (typeof original == 'number' && !Number.isFinite(original)))
      value = undefined;
    else if (
      typeof original == 'string' ||
      typeof original == 'number' ||
      typeof original == 'boolean'
    )
      value = original;
    else value = JSON.stringify(original);
    if (value !== original) repairs++;
    if (value === undefined) continue;
    if (kept >= MAX_ATTRIBUTES) {
      repairs++;
      continue;
    }
    const known = own(declared, name) ?? own(types, name);
    const type = typeof value as AttributeType;
    if (known && known != type) {
      repairs++;
      value = coerce(value, known);
      if (value === undefined) continue;
    } else if (!known && Object.keys(types).length < MAX_REMEMBERED) define(types, name, type);
    define(attributes, name, value);
    kept++;
  }
  return { attributes, repairs };
};

/** The Growlytics body of an event (types: the attribute type registry, updated; declared: types that win). */
export const toGrowlytics = (
  stored: StoredEvent,
  types: AttributeTypes,
  declared?: AttributeTypes,
): { body: Record<string, unknown>; repairs: number } => {
  const { event } = stored;
  let name = growlyticsName(event);
  let { attributes, repairs } = repairAttributes(rawAttributes(stored), types, declared);
  if (name.length > MAX_NAME) {
    name = name.slice(0, MAX_NAME);
    repairs++;
  }
  return {
    body: {
      customerId: event.userId ?? event.anonymousId,
      name,
      time: Math.round(stored.time),
      attributes,
    },
    repairs,
  };
};

/** The Growlytics destination (`type: "growlytics"`). */
export const growlytics: Destination<ConfigOf<'growlytics'>> = {
  accepts: ({ event }) => isKnownEvent(event),
  batchSize: (config) => config.batchSize ?? 50,
  async deliver(deliveries, { config, post, getState, setState, count, settle }) {
    const remembered = (await getState(TYPES_KEY)) as AttributeTypes | undefined;
    // Capped on load too: a map saved by an older relay may be larger.
    const types = typeMap([remembered], MAX_REMEMBERED);
    const declared = typeMap([BUILT_IN, config.attributeTypes]);
    const known = JSON.stringify(remembered ?? {});
    const url = join(config.baseUrl ?? GROWLYTICS_URL, '/track/event');
    const headers = {
      'Content-Type': 'application/json',
      Accept: 'application/json',
      'x-growlytics-key': config.secrets.apiKey,
    };
    const outcomes: Outcome[] = [];
    for (const delivery of deliveries) {
      let mapped;
      try {
        mapped = toGrowlytics(delivery.stored, types, declared);
      } catch (error) {
        outcomes.push({
          deliveries: [delivery],
          ok: false,
          permanent: true,
          error: `cannot map event ${delivery.stored.event.id}: ${(error as Error).message}`,
        });
        continue;
      }
      if (mapped.repairs) count('repairs', mapped.repairs);
      const sent = outcome([delivery], await post(url, headers, mapped.body));
      // Settled at once: a crash then resends only the request in flight (no id to dedupe on).
      if (settle) await settle(sent);
      else outcomes.push(sent);
    }
    if (JSON.stringify(types) != known) await setState(TYPES_KEY, types);
    return outcomes;
  },
};
