/** Liveness (`GET /health`) and readiness (`GET /ready`, for load balancers: the store answers). */
import type { Store } from '../store';
import { json } from './answers';

/** The process answers. */
export const health = (): Response => json(200, { status: 'ok' });

/** The store answers within two seconds; 503 while the database is out of reach. */
export const ready = async (store: Store): Promise<Response> => {
  const answered = await Promise.race([
    store.ping().then(() => true),
    new Promise<boolean>((resolve) => setTimeout(resolve, 2000, false).unref?.()),
  ]).catch(() => false);
  return answered
    ? json(200, { status: 'ready' })
    : json(503, { status: 'unavailable', error: 'store_unavailable' }, { 'Retry-After': '5' });
};
