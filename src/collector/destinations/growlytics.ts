/**
 * Growlytics `/track/event`: one event per request with `x-growlytics-key`, `customerId`, `name`
 * (< 50 characters), `time` (epoch ms) and `attributes` (≤ 50; string, number, boolean, or a date
 * as an ISO string). Events are repaired, not rejected: nulls dropped, objects and arrays turned to
 * JSON strings, names shortened, extra attributes dropped, and an attribute keeps the type it was
 * first sent with (the API silently ignores one whose type changes). Repairs are counted in status.
 */
import type { TrackletEvent } from '../../types';
import type { StoredEvent } from '../store';
import type { Destination, Outcome } from './types';
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
  event.type == 'event' ? (NAMES[commerceName(event) ?? ''] ?? event.name) : { pageview: 'Page Viewed', identify: 'Identify', vital: 'Web Vital', error: 'Error', engagement: 'Engagement' }[event.type];

/** The raw attributes of an event, before repair. */
const rawAttributes = ({ event }: StoredEvent): Record<string, unknown> => {
  const page = { url: event.url, path: event.path, ...event.attribution };
  switch (event.type) {
    case 'pageview':
      return { ...page, title: event.title, referrer: event.referrer, ...event.properties };
    case 'vital':
      return { ...page, metric_name: event.metricName, metric_value: event.metricValue, rating: event.rating, metric_id: event.metricId, navigation_type: event.navigationType };
    case 'error':
      return { ...page, ...compact({ message: event.message, error_type: event.errorType, filename: event.filename, lineno: event.lineno, colno: event.colno, count: event.count }) };
    case 'engagement':
      return { ...page, engagement_time_ms: Math.round(event.engagementTime), scroll_depth: event.scrollDepth, interaction_count: event.interactionCount, pageview_id: event.pageviewId };
    default:
      return { ...page, ...propertiesOf(event) };
  }
};

const coerce = (value: string | number | boolean, type: AttributeType): string | number | boolean | undefined => {
  if (type == 'string') return String(value);
  if (type == 'number') {
    const n = typeof value == 'boolean' ? undefined : Number(value);
    return n != undefined && Number.isFinite(n) && String(value).trim() != '' ? n : undefined;
  }
  return value === 'true' ? true : value === 'false' ? false : undefined;
};

/**
 * Repairs attributes to Growlytics' rules, keeping each name's type as in `types` (and adding new
 * names to it). Returns the attributes and how many repairs were made.
 */
export const repairAttributes = (raw: Record<string, unknown>, types: Record<string, AttributeType>): { attributes: Attributes; repairs: number } => {
  const attributes: Attributes = {};
  let repairs = 0;
  for (const [name, original] of Object.entries(raw)) {
    let value: string | number | boolean | undefined;
    if (original == null || (typeof original == 'number' && !Number.isFinite(original))) value = undefined;
    else if (typeof original == 'string' || typeof original == 'number' || typeof original == 'boolean') value = original;
    else value = JSON.stringify(original);
    if (value !== original) repairs++;
    if (value === undefined) continue;
    if (Object.keys(attributes).length >= MAX_ATTRIBUTES) {
      repairs++;
      continue;
    }
    const known = types[name];
    const type = typeof value as AttributeType;
    if (known && known != type) {
      repairs++;
      value = coerce(value, known);
      if (value === undefined) continue;
    } else if (!known) types[name] = type;
    attributes[name] = value;
  }
  return { attributes, repairs };
};

/** The Growlytics body of an event (types: the attribute type registry, updated). */
export const toGrowlytics = (stored: StoredEvent, types: Record<string, AttributeType>): { body: Record<string, unknown>; repairs: number } => {
  const { event } = stored;
  let name = growlyticsName(event);
  let { attributes, repairs } = repairAttributes(rawAttributes(stored), types);
  if (name.length > MAX_NAME) {
    name = name.slice(0, MAX_NAME);
    repairs++;
  }
  return { body: { customerId: event.userId ?? event.anonymousId, name, time: Math.round(stored.time), attributes }, repairs };
};

/** The Growlytics destination (`type: "growlytics"`). */
export const growlytics: Destination = {
  accepts: ({ event }) => isKnownEvent(event),
  batchSize: (config) => config.batchSize ?? 50,
  async deliver(deliveries, { config, post, getState, setState, count }) {
    if (config.type != 'growlytics') throw new Error('not a growlytics destination');
    const types = ((await getState(TYPES_KEY)) as Record<string, AttributeType>) ?? {};
    const known = JSON.stringify(types);
    const url = join(config.baseUrl ?? GROWLYTICS_URL, '/track/event');
    const headers = { 'Content-Type': 'application/json', Accept: 'application/json', 'x-growlytics-key': config.secrets.apiKey };
    const outcomes: Outcome[] = [];
    for (const delivery of deliveries) {
      const { body, repairs } = toGrowlytics(delivery.stored, types);
      if (repairs) count('repairs', repairs);
      outcomes.push(outcome([delivery], await post(url, headers, body)));
    }
    if (JSON.stringify(types) != known) await setState(TYPES_KEY, types);
    return outcomes;
  },
};
