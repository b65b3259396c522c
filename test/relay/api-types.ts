/**
 * The public types of `tracklet/collector`, checked by `tsc --noEmit` (not run): calls that must
 * compile, and with `@ts-expect-error` the ones that must not.
 */
import {
  createHandler,
  openSqliteStore,
  resolveConfig,
  startRelay,
  type Handler,
  type Relay,
  type Store,
} from '../../src/relay/index';
import {
  COMMERCE_EVENTS,
  type CommerceEventName,
  type PurchaseProperties,
} from '../../src/commerce';

export async function typeChecks(): Promise<void> {
  const relay: Relay = await startRelay({
    config: { sites: {} },
    port: 0,
    host: '127.0.0.1',
    storePath: ':memory:',
    pollMs: 10,
    adminToken: 't',
  });
  const url: string = relay.url;
  const store: Store = relay.store;
  const handler: Handler = createHandler({
    config: resolveConfig({ sites: {} }),
    store: openSqliteStore(),
  });
  const response: Response = await handler(new Request(url + '/health'), {
    remoteAddress: '127.0.0.1',
  });
  void response;
  void store;
  await relay.close();

  // @ts-expect-error a config is required
  await startRelay({ port: 0 });
  // @ts-expect-error the port is a number
  await startRelay({ config: {}, port: '8787' });
  // @ts-expect-error the handler takes a Request
  await handler('http://localhost/health');

  const name: CommerceEventName = COMMERCE_EVENTS.purchase;
  // @ts-expect-error only the standard names
  const other: CommerceEventName = 'refund';
  const purchase: PurchaseProperties = {
    order_id: 'o1',
    value: 10,
    currency: 'EUR',
    items: [{ product_id: 'p1', quantity: 1 }],
  };
  // @ts-expect-error a purchase needs its currency
  const incomplete: PurchaseProperties = { order_id: 'o1', value: 10 };
  void [name, other, purchase, incomplete];
}
