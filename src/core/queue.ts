import type { Config } from './contract';
import type { TrackletEvent } from '../types';
import { log } from './log';
import { createOutbox, stats } from './outbox';
import { safe } from './safe';

export { stats };

export interface Queue {
  /**
   * Queues an event: stored in the outbox at the end of the task, sent when the batch is full or
   * within `flushInterval`.
   */
  push(event: TrackletEvent): void;
  /**
   * Stores what is queued and hands the outbox to the network. `hiding` when the page is going
   * away: then synchronously, by beacon. Resolves once the requests are sent (at most 3 s).
   */
  flush(hiding?: boolean): Promise<void>;
  /** Stores what is queued, and removes the queue's and the outbox's timers and listener (TEARDOWN builds). */
  stop?(): void;
}

/** The batch in front of the outbox: events of one task are stored together, sends are batched. */
export const createQueue = (config: Config): Queue => {
  const { batchSize, flushInterval } = config;
  const outbox = createOutbox(config);
  let queue: TrackletEvent[] = [];
  let unsent = 0;
  let ticking = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  const store = () => {
    if (queue.length) outbox.add(queue.splice(0));
  };

  const flush = (hiding?: boolean): Promise<void> => {
    // A stopped queue hands nothing to the network: what it stored waits for the next page.
    if (TEARDOWN && stopped) return Promise.resolve();
    clearTimeout(timer);
    timer = undefined;
    unsent = 0;
    store();
    if (hiding) outbox.hide();
    // Resolves at the latest after 3 s, so that `await flush()` before a redirect never hangs.
    else
      return new Promise(
        (done) => (outbox.drain().then(done as () => void), setTimeout(done, 3000)),
      );
    return Promise.resolve();
  };

  // Once per task: one storage write for however many events the task tracked.
  const tick = safe(() => {
    ticking = false;
    if (TEARDOWN && stopped) return;
    store();
    if (unsent >= batchSize) flush();
    else if (!timer && flushInterval) timer = setTimeout(safe(flush), flushInterval);
  });

  const api: Queue = {
    push: (event) => {
      queue.push(event);
      unsent++;
      if (DEBUG) {
        stats.queued++;
        log('queued', event.type, stats);
      }
      if (!ticking) queueMicrotask((ticking = true) && tick);
    },
    flush,
  };
  if (TEARDOWN)
    api.stop = () => {
      stopped = true;
      store();
      clearTimeout(timer);
      outbox.stop!();
    };
  return api;
};
