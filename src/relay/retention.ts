/**
 * Retention: every `everyMs` the relay deletes, per kind, what is older than its configured age, in
 * batches of `batch` rows with a pause between them, so a large backlog never stalls ingest. Events
 * still queued or dead-lettered for a destination are kept whatever their age (see Store.prune).
 */
import type { RelayConfig } from './config';
import type { PruneKind, Store } from './store';

/** The running pruner. */
export interface Retention {
  /** Prunes everything due now; resolves with the rows removed by this run, per kind. */
  runOnce(): Promise<Partial<Record<PruneKind, number>>>;
  /** Rows removed since start, per kind. */
  pruned(): Partial<Record<PruneKind, number>>;
  stop(): Promise<void>;
}

/** Rows one DELETE removes at most. */
const BATCH = 1000;
/** Batches one run takes per kind at most; the rest waits for the next run. */
const MAX_BATCHES = 200;

const pause = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Starts pruning by `config.retention`; does nothing when no age is configured. */
export function startRetention(
  store: Store,
  config: Pick<RelayConfig, 'retention'>,
  options: { log?: (line: string) => void; now?: () => number } = {},
): Retention {
  const { ages, everyMs } = config.retention;
  const now = options.now ?? Date.now;
  const total: Partial<Record<PruneKind, number>> = {};
  let stopped = false;
  let running: Promise<Partial<Record<PruneKind, number>>> | undefined;

  const run = async () => {
    const removed: Partial<Record<PruneKind, number>> = {};
    for (const [kind, age] of Object.entries(ages) as [PruneKind, number][]) {
      const before = now() - age;
      for (let i = 0; i < MAX_BATCHES && !stopped; i++) {
        const n = await store.prune(kind, before, BATCH);
        removed[kind] = (removed[kind] ?? 0) + n;
        total[kind] = (total[kind] ?? 0) + n;
        if (n < BATCH) break;
        // Requests waiting on the event loop (and the database) go first.
        await pause();
      }
    }
    const summary = Object.entries(removed).filter(([, n]) => n);
    if (summary.length)
      options.log?.(`retention: pruned ${summary.map(([k, n]) => `${n} ${k}`).join(', ')}`);
    return removed;
  };

  const runOnce = () => {
    running ??= run().finally(() => (running = undefined));
    return running;
  };

  const active = Object.keys(ages).length > 0;
  const timer = active
    ? setInterval(
        () => void runOnce().catch((error: Error) => options.log?.(`retention: ${error.message}`)),
        everyMs,
      )
    : undefined;
  timer?.unref?.();
  return {
    runOnce,
    pruned: () => ({ ...total }),
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      await running?.catch(() => {});
    },
  };
}
