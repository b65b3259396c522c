/**
 * DataCue `/v1/events`: one event per request, HTTP Basic auth with `apikey:` (no secret, as the
 * events endpoint wants), `user` (`user_id` when identified, always `anonymous_id`), `event`
 * (`type`/`subtype`), `context` (`ip`, `user_agent`) and an ISO-8601 UTC `timestamp`, always sent
 * because a relay's events are historical. DataCue has no place for vitals, errors, engagement,
 * identify or conversions, nor for pageviews other than the home page: those are skipped.
 */
import type { StoredEvent } from '../store';
import type { ConfigOf, Destination } from './types';
import {
  commerceName,
  compact,
  isKnownEvent,
  itemsOf,
  join,
  mapEach,
  postEach,
  propertiesOf,
  str,
} from './util';

/** The document's API host. */
export const DATACUE_URL = 'https://api.datacue.co';

/** The `event` object for a Tracklet event, or undefined when DataCue has no place for it. */
export const datacueEvent = (stored: StoredEvent): Record<string, unknown> | undefined => {
  const { event } = stored;
  const properties = propertiesOf(event);
  const cart = () =>
    itemsOf(properties).map((item) =>
      // The two order examples disagree (variant/price vs variant_id/unit_price); variant_id is
      // what every other example uses.
      compact({
        product_id: item.product_id,
        variant_id: item.variant_id,
        quantity: item.quantity ?? 1,
        unit_price: item.price,
        currency: item.currency ?? str(properties.currency),
      }),
    );
  if (event.type == 'pageview') {
    const category = str(properties.category_id);
    if (category) return { type: 'pageview', subtype: 'category', category_id: category };
    return event.path == '/' ? { type: 'pageview', subtype: 'home' } : undefined;
  }
  switch (commerceName(event)) {
    case 'product_view':
      return compact({
        type: 'pageview',
        subtype: 'product',
        product_id: str(properties.product_id),
        variant_id: str(properties.variant_id),
      });
    case 'add_to_cart':
      // viewcart takes the whole cart: `items` when the page gave it, else the product just added.
      return { type: 'viewcart', cart: itemsOf(properties).map((item) => item.product_id) };
    case 'checkout_start':
      return compact({
        type: 'order',
        subtype: 'started',
        order_id: str(properties.order_id),
        cart: cart(),
      });
    case 'purchase':
      return compact({
        type: 'order',
        subtype: 'completed',
        order_id: str(properties.order_id) ?? event.id,
        buyer_id: event.userId,
        payment_method: str(properties.payment_method),
        cart: cart(),
      });
    case 'search':
      return str(properties.query) ? { type: 'search', term: str(properties.query) } : undefined;
    case 'login':
      return { type: 'login' };
  }
};

/** The whole DataCue body. */
export const toDatacue = (
  stored: StoredEvent,
  userAgentField: string,
): Record<string, unknown> | undefined => {
  const event = datacueEvent(stored);
  if (!event) return undefined;
  return {
    user: compact({ user_id: stored.event.userId, anonymous_id: stored.event.anonymousId }),
    event,
    context: compact({ ip: stored.ip, [userAgentField]: stored.userAgent }),
    timestamp: new Date(stored.time).toISOString(),
  };
};

/** The DataCue destination (`type: "datacue"`). */
export const datacue: Destination<ConfigOf<'datacue'>> = {
  accepts: (stored) => isKnownEvent(stored.event) && datacueEvent(stored) != undefined,
  batchSize: (config) => config.batchSize ?? 50,
  async deliver(deliveries, { config, post, settle }) {
    const url = join(config.baseUrl ?? DATACUE_URL, '/v1/events');
    const headers = {
      'Content-Type': 'application/json',
      Authorization: 'Basic ' + Buffer.from(config.secrets.apiKey + ':').toString('base64'),
    };
    const { mapped, failed } = mapEach(deliveries, (d) =>
      toDatacue(d.stored, config.userAgentField ?? 'user_agent'),
    );
    return [...failed, ...(await postEach(mapped, (body) => post(url, headers, body), settle))];
  },
};
