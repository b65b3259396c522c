/**
 * Tracify server-side events: `{ events: [...] }` POSTed to the configured endpoint (the document
 * names none, so `baseUrl` is required and used as is). Types pageview, productview, addtocart,
 * purchase, conversion; everything else is skipped. `identity_data` holds SHA-256 hashes: email (1,
 * once the visitor is identified), IP|UA as the session (2), IP (3), UA (4). The first sent event
 * of a session carries its campaign parameters, even when the tracker put them on an event Tracify
 * does not take (they wait in the visitor's state).
 */
import type { TrackletEvent } from '../../types';
import type { StoredEvent } from '../store';
import type { ConfigOf, Destination, Outcome } from './types';
import {
  commerceName,
  emailOf,
  isKnownEvent,
  itemsOf,
  num,
  postBatches,
  propertiesOf,
  sha256,
  str,
  type Mapped,
} from './util';

type TracifyType = 'pageview' | 'productview' | 'addtocart' | 'purchase' | 'conversion';

/** Per-visitor state: the hashed email once known, and campaign parameters not yet sent. */
interface VisitorState {
  email?: string;
  pending?: { session: string; attribution: Record<string, string> };
}

const TYPES: Record<string, TracifyType> = {
  product_view: 'productview',
  add_to_cart: 'addtocart',
  purchase: 'purchase',
  conversion: 'conversion',
};

/** The Tracify type of an event, if it has one. */
export const tracifyType = (event: TrackletEvent): TracifyType | undefined =>
  event.type == 'pageview' ? 'pageview' : TYPES[commerceName(event) ?? ''];

/** `%Y-%m-%d %H:%M:%S` in UTC. */
export const tracifyDatetime = (ms: number): string =>
  new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

/** A money amount as the examples write it: a string, two decimals. */
const amount = (value: unknown): string | undefined => {
  const n = num(value);
  return n == undefined ? undefined : n.toFixed(2);
};

/**
 * Maps one event. Throws (a permanent failure for that event) when a purchase or conversion lacks
 * its currency or amount, which Tracify requires and the relay cannot invent.
 */
export const toTracify = (
  stored: StoredEvent,
  options: {
    customerSiteId: string;
    origin?: string;
    emailHash?: string;
    attribution?: Record<string, string>;
  },
): Record<string, unknown> => {
  const { event } = stored;
  const type = tracifyType(event)!;
  const ip = stored.ip ?? '';
  const ua = stored.userAgent ?? '';
  const identity: Record<string, number> = {};
  if (options.emailHash) identity[options.emailHash] = 1;
  identity[sha256(`${ip}|${ua}`)] = 2;
  identity[sha256(ip)] = 3;
  identity[sha256(ua)] = 4;
  const { referrer, ...params } = options.attribution ?? {};
  const data: Record<string, string> = {};
  const referer = (event.type == 'pageview' && event.referrer) || referrer;
  if (referer) data.Referer = referer;
  data.origin = options.origin ?? new URL(event.url).origin;
  Object.assign(data, params);
  const properties = propertiesOf(event);
  if (type == 'purchase' || type == 'conversion') {
    const idKey = type == 'purchase' ? 'order_id' : 'conversion_id';
    // The tracker's event id is unique and stable across resends: a sound dedupe key when none was given.
    data[idKey] = str(properties[idKey]) ?? event.id;
    const currency = str(properties.currency)?.toUpperCase();
    const total = amount(properties.value ?? properties.amount);
    if (!currency || !/^[A-Z]{3}$/.test(currency))
      throw new Error(`${event.type} ${event.id}: ${type} needs an ISO-4217 currency`);
    if (total == undefined) throw new Error(`${event.type} ${event.id}: ${type} needs a value`);
    data.currency = currency;
    data.amount = total;
    if (type == 'purchase') {
      itemsOf(properties).forEach((item, i) => {
        data[`ITEM${i + 1}`] = item.name ?? item.product_id;
        if (item.price != undefined) data[`AMT${i + 1}`] = String(item.price);
        data[`QTY${i + 1}`] = String(item.quantity ?? 1);
      });
    }
  }
  return {
    url: event.url,
    customer_site_id: options.customerSiteId,
    identity_data: identity,
    datetime: tracifyDatetime(stored.time),
    type,
    data,
  };
};

/** The Tracify destination (`type: "tracify"`). */
export const tracify: Destination<ConfigOf<'tracify'>> = {
  // Identify and attribution-carrying events are taken too: they teach the visitor's email and campaign.
  accepts: ({ event }) =>
    isKnownEvent(event) &&
    (tracifyType(event) != undefined || event.type == 'identify' || !!event.attribution),
  batchSize: (config) => config.batchSize ?? 100,
  async deliver(deliveries, { config, post, getState, setState }) {
    const states = new Map<string, VisitorState>();
    const stateOf = async (visitor: string) => {
      if (!states.has(visitor))
        states.set(visitor, ((await getState(visitor)) as VisitorState) ?? {});
      return states.get(visitor)!;
    };
    const outcomes: Outcome[] = [];
    const items: Mapped<Record<string, unknown>>[] = [];
    const usedPending = new Set<string>();
    for (const delivery of deliveries) {
      const { event } = delivery.stored;
      const state = await stateOf(event.anonymousId);
      const email = emailOf(event);
      if (email) state.email = sha256(email);
      if (!tracifyType(event)) {
        if (event.attribution)
          state.pending = { session: event.sessionId, attribution: event.attribution };
        outcomes.push({ deliveries: [delivery], ok: true });
        continue;
      }
      let attribution = event.attribution;
      if (
        !attribution &&
        state.pending?.session == event.sessionId &&
        !usedPending.has(event.anonymousId)
      ) {
        attribution = state.pending.attribution;
        usedPending.add(event.anonymousId);
      }
      try {
        items.push({
          delivery,
          value: toTracify(delivery.stored, {
            customerSiteId: config.customerSiteId,
            origin: config.origin,
            emailHash: state.email,
            attribution,
          }),
        });
      } catch (error) {
        outcomes.push({
          deliveries: [delivery],
          ok: false,
          permanent: true,
          error: `cannot map event ${event.id}: ${(error as Error).message}`,
        });
      }
    }
    const header = config.apiKeyHeader ?? 'Authorization';
    const prefix =
      config.apiKeyPrefix ?? (header.toLowerCase() == 'authorization' ? 'Bearer ' : '');
    const headers = {
      'Content-Type': 'application/json',
      [header]: prefix + config.secrets.apiKey,
    };
    const sent = await postBatches(items, config.batchSize ?? 100, (part) =>
      post(config.baseUrl, headers, { events: part.map((m) => m.value) }),
    );
    const allSent = sent.every((o) => o.ok);
    outcomes.push(...sent);
    // Pending campaign parameters are spent only once an event carried them out.
    for (const [visitor, state] of states) {
      if (allSent && usedPending.has(visitor)) delete state.pending;
      await setState(visitor, state);
    }
    return outcomes;
  },
};
