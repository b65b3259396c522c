/**
 * Tracklet's standard commerce events: custom events (`type: 'event'`) with these names and
 * properties. The relay maps each one to every destination's own commerce types (Tracify
 * `productview`/`addtocart`/`purchase`/`conversion`, DataCue `pageview`+`product`, `viewcart`,
 * `order` `started`/`completed`, `search`, `login`, …); see the README, "Collector and destinations".
 */
/** Event names, by meaning. Send them with `track(COMMERCE_EVENTS.purchase, props)`. */
export const COMMERCE_EVENTS = {
  productView: 'product_view',
  addToCart: 'add_to_cart',
  checkoutStart: 'checkout_start',
  purchase: 'purchase',
  conversion: 'conversion',
  search: 'search',
  login: 'login',
} as const;

/** One of the standard commerce event names. */
export type CommerceEventName = (typeof COMMERCE_EVENTS)[keyof typeof COMMERCE_EVENTS];

/**
 * A product line: in a cart, an order, or on its own. The property shapes are type aliases, not
 * interfaces, so that they are assignable to `track()`'s `Properties`.
 */
export type CommerceItem = {
  product_id: string;
  variant_id?: string;
  name?: string;
  /** Unit price in `currency`. */
  price?: number;
  quantity?: number;
  currency?: string;
};

/** `product_view`: a visitor looked at a product page. */
export type ProductViewProperties = CommerceItem & {
  category?: string;
};

/** `add_to_cart`: a product went into the cart; `items` is the whole cart after the change, if known. */
export type AddToCartProperties = CommerceItem & {
  items?: CommerceItem[];
};

/** `checkout_start`: the visitor began checking out this cart. */
export type CheckoutStartProperties = {
  order_id?: string;
  /** Total in `currency`. */
  value?: number;
  currency?: string;
  items: CommerceItem[];
};

/** `purchase`: an order was completed. `order_id` is unique (destinations dedupe on it). */
export type PurchaseProperties = {
  order_id: string;
  /** Order total in `currency`. */
  value: number;
  /** ISO-4217 code, e.g. `EUR`. */
  currency: string;
  items?: CommerceItem[];
  payment_method?: string;
};

/** `conversion`: a non-purchase goal (lead, signup…). `conversion_id` is unique. */
export type ConversionProperties = {
  conversion_id: string;
  value?: number;
  currency?: string;
};

/** `search`: the visitor searched the site for `query`. */
export type SearchProperties = {
  query: string;
};

/** `login`: the visitor logged in (usually next to `identify()`). */
export type LoginProperties = {
  method?: string;
};

/** The properties of each standard commerce event, by name. */
export interface CommerceProperties {
  product_view: ProductViewProperties;
  add_to_cart: AddToCartProperties;
  checkout_start: CheckoutStartProperties;
  purchase: PurchaseProperties;
  conversion: ConversionProperties;
  search: SearchProperties;
  login: LoginProperties;
}
