import { log } from './log';

/** Counters of the pipeline, shown with every debug log line (drops are counted in every build, the rest in debug). */
export const stats = (
  DEBUG ? { queued: 0, sent: 0, confirmed: 0, retries: 0, dropped: 0 } : { dropped: 0 }
) as { queued: number; sent: number; confirmed: number; retries: number; dropped: number };

/** Counts dropped events and says why in debug mode. */
export const drop = (count: number, why: string | false): void => {
  stats.dropped += count;
  if (DEBUG) log('dropped', count, 'event(s):', why, stats);
};
