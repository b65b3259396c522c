/**
 * The live event stream (`GET /events/stream`, server-sent events): subscribers, the bounded replay
 * of stored events, and the back-pressure that drops a subscriber that does not read.
 */
import type { Limits } from '../config';
import type { Store, StoredEvent } from '../store';
import { refuse } from './answers';

/** The live stream's subscribers and what they are sent. */
export interface EventStream {
  /** Sends events to every subscriber. */
  publish(events: StoredEvent[]): void;
  /** Answers a subscription request (`?replay=N`: the last N stored events first). */
  open(url: URL): Response;
  /** Subscribers, bytes they have not taken yet, and those dropped or refused so far. */
  stats(): { subscribers: number; queuedBytes: number; dropped: number; refused: number };
}

type Subscriber = ReadableStreamDefaultController<Uint8Array>;

const encoder = new TextEncoder();

/**
 * The last `count` stored events as stream messages, oldest first, at most `replayBytes` of them.
 * Read in growing pages, so that large events never load `count` of them at once.
 */
const replayed = async (store: Store, count: number, replayBytes: number): Promise<Uint8Array> => {
  for (let page = Math.min(count, 16); ; page = Math.min(count, page * 4)) {
    const events = await store.events(page);
    const messages: string[] = [];
    let bytes = 0;
    let full = false;
    // Newest first, so that the bound keeps the most recent events.
    for (let i = events.length - 1; i >= 0 && !full; i--) {
      const message = `data: ${JSON.stringify(events[i])}\n\n`;
      bytes += Buffer.byteLength(message);
      if (bytes > replayBytes) full = true;
      else messages.push(message);
    }
    if (full || events.length < page || page == count)
      return encoder.encode(messages.reverse().join(''));
  }
};

/** Creates the live stream over `store` with the caps of `limits`. */
export function createEventStream(store: Store, limits: Limits): EventStream {
  const streams = new Set<Subscriber>();
  const counters = { dropped: 0, refused: 0 };
  // Subscriptions reading their replay: counted, so that concurrent requests cannot pass the cap.
  let starting = 0;
  /** Bytes queued for a subscriber and not yet taken by its connection. */
  const behind = (controller: Subscriber) =>
    limits.streamBufferBytes - (controller.desiredSize ?? 0);

  const publish = (events: StoredEvent[]) => {
    if (!streams.size) return;
    // The full IP kept for destinations is no business of the live stream's.
    const chunk = encoder.encode(
      events.map(({ sendIp, ...e }) => `data: ${JSON.stringify(e)}\n\n`).join(''),
    );
    for (const controller of streams) {
      try {
        // A subscriber that does not read would grow this queue without bound: once it is
        // `streamBufferBytes` behind it is dropped instead (an EventSource reconnects by itself and
        // can ask for a replay). The queue holds at most that plus one publish.
        if ((controller.desiredSize ?? 0) <= 0) {
          counters.dropped++;
          streams.delete(controller);
          controller.error(new Error('subscriber fell behind'));
          continue;
        }
        controller.enqueue(chunk);
      } catch {
        streams.delete(controller);
      }
    }
  };

  /** Comments keep proxies from closing an idle stream. */
  const heartbeatFor = (controller: Subscriber) => {
    const heartbeat: ReturnType<typeof setInterval> = setInterval(() => {
      try {
        if (!streams.has(controller)) return clearInterval(heartbeat);
        controller.enqueue(encoder.encode(': ping\n\n'));
      } catch {
        clearInterval(heartbeat);
      }
    }, 15_000);
    heartbeat.unref?.();
    return heartbeat;
  };

  const open = (url: URL): Response => {
    if (streams.size + starting >= limits.streamSubscribers) {
      counters.refused++;
      return refuse(
        503,
        'too_many_subscribers',
        '(stream)',
        `at most ${limits.streamSubscribers} event stream subscribers at once`,
        { 'Retry-After': '10' },
      );
    }
    let self: Subscriber;
    let heartbeat: ReturnType<typeof setInterval>;
    // A whole number up to 1,000: a store reads LIMIT -5 (SQLite: no limit) or 0.5 otherwise.
    const replay = Math.min(
      Math.max(Math.trunc(Number(url.searchParams.get('replay'))) || 0, 0),
      1000,
    );
    starting++;
    const body = new ReadableStream<Uint8Array>(
      {
        async start(controller) {
          self = controller;
          try {
            controller.enqueue(encoder.encode(': tracklet relay\n\n'));
            if (replay) controller.enqueue(await replayed(store, replay, limits.replayBytes));
          } finally {
            starting--;
          }
          streams.add(controller);
          heartbeat = heartbeatFor(controller);
        },
        cancel() {
          clearInterval(heartbeat);
          streams.delete(self);
        },
      },
      // Counted in bytes: `desiredSize` then says how far the subscriber is behind.
      { highWaterMark: limits.streamBufferBytes, size: (chunk) => chunk.byteLength },
    );
    // No CORS: the stream carries visitors' IPs and ids, for the operator's own pages only.
    return new Response(body, {
      headers: {
        'Content-Type': 'text/event-stream',
        'Cache-Control': 'no-store',
        Connection: 'keep-alive',
      },
    });
  };

  const stats = () => ({
    subscribers: streams.size,
    queuedBytes: [...streams].reduce((sum, controller) => sum + Math.max(0, behind(controller)), 0),
    dropped: counters.dropped,
    refused: counters.refused,
  });
  return { publish, open, stats };
}
