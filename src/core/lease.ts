import { randomId } from './id';
import { read, remove, write } from './storage';

/** This page, as the holder of a lease. */
const PAGE = randomId();
const LEASE_KEY = 'lease';
/** A lease outlives a slow send; a page that died holding one blocks others for at most this. */
export const LEASE_MS = 30_000;

/**
 * Runs `run` while no other tab of the site runs it: under a Web Lock where the browser has them
 * (other tabs wait their turn), else under a lease in localStorage (other tabs skip their turn).
 * Resolves to false when another tab holds the lease, so that the caller tries again later.
 */
export const lock = (run: () => Promise<unknown>): Promise<boolean> => {
  if (navigator.locks)
    return navigator.locks.request('tracklet', run).then(
      () => true,
      () => true,
    );
  const [holder, until] = (read(LEASE_KEY) || '').split(' ');
  if (holder != PAGE && +until > Date.now()) return Promise.resolve(false);
  write(LEASE_KEY, PAGE + ' ' + (Date.now() + LEASE_MS));
  const release = () => {
    if (read(LEASE_KEY)?.startsWith(PAGE)) remove(LEASE_KEY);
    return true;
  };
  return run().then(release, release);
};
