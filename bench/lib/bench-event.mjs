// The event every relay bench sends or stores: a realistic custom event, unique by id (a run's
// random prefix and a count) so that no dedupe short-cuts it.
const runId = Math.random().toString(36).slice(2, 8);
let sequence = 0;

/** A custom event as the script tag sends it. */
export const benchEvent = (now) => {
  const n = ++sequence;
  return {
    type: 'event',
    name: 'add_to_cart',
    properties: { sku: 'SKU-' + (n % 997), price: 19.9, currency: 'EUR' },
    id: `${runId}-${n}`,
    timestamp: now,
    anonymousId: 'anon-' + (n % 5000),
    sessionId: 'sess-' + (n % 1000),
    url: 'https://shop.example/products/42?ref=home',
    path: '/products/42',
  };
};

/** The same event as the relay's store receives it, with what ingest adds. */
export const storedBenchEvent = (now) => ({
  site: 'shop',
  receivedAt: now,
  time: now,
  skewMs: 3,
  ip: '127.0.0.1',
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64) bench',
  bot: false,
  origin: 'https://shop.example',
  event: benchEvent(now),
});
