import type { Config } from '../config';
import type { TrackletEvent } from '../types';
import { log, warn } from './log';
import { safe } from './safe';
import { pack, send } from './transport';

/** Counters of the pipeline, visible in debug mode. */
export const stats = { queued: 0, sent: 0, dropped: 0 };

export interface Queue {
  /** Queues an event; flushes when the batch is full, else within `flushInterval`. */
  push(event: TrackletEvent): void;
  /** Hands every queued event to the network. `hiding` when the page is going away. */
  flush(hiding?: boolean): Promise<void>;
}

/** The in-memory batch queue in front of the transport. */
export const createQueue = ({ endpoint, site, batchSize, flushInterval }: Config): Queue => {
  let queue: TrackletEvent[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;

  const flush = (): Promise<void> => {
    clearTimeout(timer);
    timer = undefined;
    if (queue.length) {
      const { bodies, sent, tooLarge } = pack(site, queue);
      queue = [];
      if (tooLarge.length) {
        stats.dropped += tooLarge.length;
        warn(`${tooLarge.length} event(s) over 64 KiB dropped`);
      }
      bodies.forEach((body, i) => {
        if (send(endpoint, body)) stats.sent += sent[i].length;
        else queue.push(...sent[i]);
      });
      log('flush', bodies.length, 'request(s)', stats);
    }
    return Promise.resolve();
  };

  return {
    push: (event) => {
      queue.push(event);
      stats.queued++;
      log('queued', event.type, event);
      if (queue.length >= batchSize) flush();
      else if (!timer && flushInterval) timer = setTimeout(safe(flush), flushInterval);
    },
    flush,
  };
};
