// Type-level tests of the commerce events as an app imports them from the npm entry (`tsc --noEmit`
// in `npm test`): the names and the property types come with `tracklet`, and go through `track()`.
import {
  COMMERCE_EVENTS,
  track,
  type AddToCartProperties,
  type CommerceEventName,
  type CommerceProperties,
  type PurchaseProperties,
} from '../../src/index';

const name: CommerceEventName = COMMERCE_EVENTS.purchase;
const purchase: PurchaseProperties = {
  order_id: 'o-1',
  value: 42.5,
  currency: 'EUR',
  items: [{ product_id: 'p-1', quantity: 2, price: 21.25 }],
};
track(name, purchase);
const cart: CommerceProperties['add_to_cart'] = {
  product_id: 'p-2',
  items: [{ product_id: 'p-2' }],
};
track(COMMERCE_EVENTS.addToCart, cart);
track(COMMERCE_EVENTS.search, { query: 'shoes' } satisfies CommerceProperties['search']);

// @ts-expect-error only the standard names
const other: CommerceEventName = 'refund';
// @ts-expect-error a purchase needs its currency
const incomplete: PurchaseProperties = { order_id: 'o-1', value: 10 };
// @ts-expect-error a cart line needs its product id
const line: AddToCartProperties = { name: 'Shoe' };
// @ts-expect-error the names are constants
COMMERCE_EVENTS.purchase = 'order';

export { other, incomplete, line };
