/** Token buckets by key (client IP, site), in a map of bounded size. */
import type { Bucket } from './config';

/** A set of buckets: `take(key)` spends one token, or says how long until one is free. */
export interface Limiter {
  /** 0 when the request may go on; else the seconds until the bucket has a token again (at least 1). */
  take(key: string): number;
  /** Buckets held now. */
  size(): number;
}

interface State {
  tokens: number;
  at: number;
}

/**
 * Buckets of `burst` tokens refilled at `perSecond`. At most `maxTracked` are held: past it, buckets
 * that have refilled (they remember nothing) go first, then the least recently used ones.
 */
export const createLimiter = (bucket: Bucket, maxTracked: number, now: () => number): Limiter => {
  const buckets = new Map<string, State>();
  const refill = (state: State, at: number) => {
    state.tokens = Math.min(
      bucket.burst,
      state.tokens + ((at - state.at) / 1000) * bucket.perSecond,
    );
    state.at = at;
  };
  const evict = (at: number) => {
    for (const [key, state] of buckets) {
      refill(state, at);
      if (state.tokens >= bucket.burst) buckets.delete(key);
    }
    // Map order is least recently used first (each take moves its key to the end). A tenth goes at
    // once, so that a flood of new addresses costs one sweep per many requests, not one each.
    const keep = Math.floor(maxTracked * 0.9);
    for (const key of buckets.keys()) {
      if (buckets.size <= keep) break;
      buckets.delete(key);
    }
  };
  return {
    take(key) {
      if (bucket.perSecond <= 0) return 0;
      const at = now();
      let state = buckets.get(key);
      if (state) {
        buckets.delete(key);
        refill(state, at);
      } else {
        if (buckets.size >= maxTracked) evict(at);
        state = { tokens: bucket.burst, at };
      }
      buckets.set(key, state);
      if (state.tokens >= 1) {
        state.tokens -= 1;
        return 0;
      }
      return Math.max(1, Math.ceil((1 - state.tokens) / bucket.perSecond));
    },
    size: () => buckets.size,
  };
};
