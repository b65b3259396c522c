/** A scripted visit: two sessions of one visitor, with every kind of event and every commerce event. */
import type { Properties, TrackletEvent } from '../../src/types';

const T0 = Date.now() - 60_000;
const base = (n: number, session: 's1' | 's2', path = '/') => ({
  id: `evt-${session}-${String(n).padStart(2, '0')}`,
  timestamp: T0 + n * 1000,
  anonymousId: 'anon-A',
  sessionId: `sess-A-${session}`,
  url: 'https://shop.example' + path,
  path,
});

const items: Properties[] = [
  { product_id: 'p1', variant_id: 'v1', name: 'Shoe', price: 25, quantity: 2, currency: 'EUR' },
  { product_id: 'p2', name: 'Sock', price: 50, quantity: 1, currency: 'EUR' },
];

/** Session 1: lands from a campaign, browses, identifies, buys. Engagement at the end. */
export const session1: TrackletEvent[] = [
  {
    ...base(1, 's1'),
    type: 'pageview',
    title: 'Home',
    referrer: 'https://ref.example/post',
    attribution: {
      utm_source: 'fb',
      utm_medium: 'paid',
      trc_mcmp_id: '111',
      referrer: 'https://ref.example/post',
    },
  },
  {
    ...base(2, 's1'),
    type: 'vital',
    metricName: 'LCP',
    metricValue: 1234.5,
    rating: 'good',
    metricId: 'v5-1',
    navigationType: 'navigate',
  },
  {
    ...base(3, 's1'),
    type: 'vital',
    metricName: 'CLS',
    metricValue: 0.02,
    rating: 'good',
    metricId: 'v5-2',
    navigationType: 'navigate',
  },
  {
    ...base(4, 's1'),
    type: 'error',
    message: "Cannot read properties of undefined (reading 'id')",
    filename: 'https://shop.example/app.js',
    lineno: 42,
    colno: 15,
    stack: 'TypeError: …',
    errorType: 'TypeError',
  },
  {
    ...base(5, 's1', '/products/p1'),
    type: 'event',
    name: 'product_view',
    properties: { product_id: 'p1', variant_id: 'v1', name: 'Shoe', price: 25, currency: 'EUR' },
  },
  {
    ...base(6, 's1', '/products/p1'),
    type: 'event',
    name: 'add_to_cart',
    properties: { product_id: 'p1', name: 'Shoe', price: 25, quantity: 2, currency: 'EUR' },
  },
  {
    ...base(7, 's1', '/search'),
    type: 'event',
    name: 'search',
    properties: { query: 'blue jeans' },
  },
  {
    ...base(8, 's1', '/login'),
    type: 'identify',
    userId: 'u-42',
    traits: { email: 'Ann@Example.com', plan: 'pro', nothing: null },
  },
  {
    ...base(9, 's1', '/login'),
    userId: 'u-42',
    type: 'event',
    name: 'login',
    properties: { method: 'password' },
  },
  {
    ...base(10, 's1', '/checkout'),
    userId: 'u-42',
    type: 'event',
    name: 'checkout_start',
    properties: { order_id: 'o1', value: 100, currency: 'EUR', items },
  },
  {
    ...base(11, 's1', '/checkout/done'),
    userId: 'u-42',
    type: 'event',
    name: 'purchase',
    properties: { order_id: 'o1', value: 100, currency: 'EUR', items, coupon: null },
  },
  {
    ...base(12, 's1', '/newsletter'),
    userId: 'u-42',
    type: 'event',
    name: 'conversion',
    properties: { conversion_id: 'c1', value: 10, currency: 'EUR' },
  },
  // Same attribute name as product_view's number `price`, now a string: Growlytics must keep `price` a number.
  {
    ...base(13, 's1', '/newsletter'),
    userId: 'u-42',
    type: 'event',
    name: 'a custom event whose name is far longer than fifty characters',
    properties: { price: 'cheap', nested: { a: 1 } },
  },
  {
    ...base(14, 's1', '/newsletter'),
    userId: 'u-42',
    type: 'engagement',
    engagementTime: 45_200,
    scrollDepth: 80,
    interactionCount: 7,
    pageviewId: 'evt-s1-01',
  },
];

/** Session 2: starts with a vital that carries the new campaign, then a pageview. */
export const session2: TrackletEvent[] = [
  {
    ...base(20, 's2'),
    userId: 'u-42',
    type: 'vital',
    metricName: 'TTFB',
    metricValue: 80,
    rating: 'good',
    metricId: 'v5-3',
    navigationType: 'navigate',
    attribution: { utm_source: 'news', utm_campaign: 'spring' },
  },
  { ...base(21, 's2'), userId: 'u-42', type: 'pageview', title: 'Home', referrer: '' },
];

export const allEvents = [...session1, ...session2];
