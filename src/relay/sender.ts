/**
 * Delivery's HTTP exchanges in a thread of their own (worker_threads): making each request, writing
 * its body to the socket and reading the answer leave the event loop that answers ingests, and the
 * process can use a second core for them. The thread keeps the keep-alive connections; bodies go in
 * and answers come back as plain strings. If the thread dies, the requests it had fail (the
 * deliveries are retried like any failed send, nothing is lost) and the next request starts a new
 * thread. Opt-in (TRACKLET_DELIVERY_THREAD=1, see `exchange`); without it, or where no thread can
 * be started, the requests run on the main event loop.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { Worker } from 'node:worker_threads';

/** What a destination answered. */
export interface Answer {
  status: number;
  text: string;
  retryAfter?: string;
}

/** One request to the thread. */
interface Ask {
  id: number;
  url: string;
  headers: Record<string, string>;
  payload: string;
  timeoutMs: number;
}

/** The thread's reply: an answer, or the error the request failed with. */
type Reply =
  | ({ id: number } & Answer)
  | { id: number; error: { name: string; message: string; cause?: string } };

/**
 * Most bytes of an answer read: the status decides an outcome, and the text past this is never
 * needed. A destination's answer of gigabytes (or one that never ends) must neither exhaust memory
 * nor time out a request it has already taken.
 */
export const MAX_ANSWER_BYTES = 1_048_576;

/**
 * The exchange, in the thread and (`inProcess` below) on the main loop: the whole exchange
 * has `timeoutMs`, not only the idle time between packets, so a slow trickle cannot hold a lease.
 * Past MAX_ANSWER_BYTES the answer is taken as read so far and its connection closed.
 */
const EXCHANGE = `(http, https, agents) => (url, headers, payload, timeoutMs, signal) =>
  new Promise((resolve, reject) => {
    const req = (url.protocol == 'https:' ? https : http).request(url, {
      method: 'POST',
      headers: { ...headers, 'Content-Length': Buffer.byteLength(payload) },
      agent: agents[url.protocol],
      signal,
    }, (res) => {
      const chunks = [];
      let size = 0;
      const answer = () => resolve({
        status: res.statusCode ?? 0,
        text: Buffer.concat(chunks).subarray(0, ${MAX_ANSWER_BYTES}).toString('utf8'),
        retryAfter: res.headers['retry-after'],
      });
      res.on('data', (chunk) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size >= ${MAX_ANSWER_BYTES}) {
          answer();
          res.destroy();
        }
      });
      res.on('end', answer);
      res.on('error', reject);
    });
    const timer = setTimeout(
      () => req.destroy(Object.assign(new Error('timeout'), { name: 'TimeoutError' })),
      timeoutMs,
    );
    req.on('close', () => clearTimeout(timer));
    req.on('error', reject);
    req.end(payload);
  })`;

/** One keep-alive pool per protocol: a destination's next batch reuses the connection of the last. */
const AGENTS = `{
  'http:': new http.Agent({ keepAlive: true, maxSockets: 16 }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: 16 }),
}`;

/** The thread's program: runs each request it is given, cancels on request, replies by id. */
const THREAD = `
const { parentPort } = require('node:worker_threads');
const http = require('node:http');
const https = require('node:https');
const exchange = (${EXCHANGE})(http, https, ${AGENTS});
const running = new Map();
parentPort.on('message', (ask) => {
  if (ask.cancel != undefined) return void running.get(ask.cancel)?.abort();
  const abort = new AbortController();
  running.set(ask.id, abort);
  exchange(new URL(ask.url), ask.headers, ask.payload, ask.timeoutMs, abort.signal).then(
    (answer) => parentPort.postMessage({ id: ask.id, ...answer }),
    (error) => parentPort.postMessage({ id: ask.id, error: {
      name: String(error?.name ?? 'Error'),
      message: String(error?.message ?? error),
      ...(error?.cause ? { cause: String(error.cause.message ?? error.cause) } : {}),
    } }),
  ).finally(() => running.delete(ask.id));
});`;

type Exchange = (
  url: URL,
  headers: Record<string, string>,
  payload: string,
  timeoutMs: number,
  signal: AbortSignal,
) => Promise<Answer>;

const agents = new Function('http', 'https', 'return ' + AGENTS)(http, https);

/**
 * The same exchange on the main event loop, made from the same source as the thread's: one text of
 * it, so the two cannot drift apart.
 */
const inProcess: Exchange = new Function('return ' + EXCHANGE)()(http, https, agents);

/** An error as the request failed with it, in the thread. */
const errorOf = ({ name, message, cause }: { name: string; message: string; cause?: string }) =>
  Object.assign(new Error(message), { name }, cause ? { cause: new Error(cause) } : {});

/** What a request stopped by its signal rejects with, as node:http's does. */
const aborted = () => Object.assign(new Error('The operation was aborted'), { name: 'AbortError' });

type Waiting = { resolve: (answer: Answer) => void; reject: (error: Error) => void };

/** The sending thread: started on the first request, again after it died; unref'd while idle. */
const threadSender = () => {
  let thread: Worker | undefined;
  let next = 0;
  const waiting = new Map<number, Waiting>();
  const fail = (thread: Worker | undefined, why: string) => {
    if (!thread) return;
    thread.removeAllListeners();
    void thread.terminate().catch(() => {});
    for (const w of waiting.values()) w.reject(new Error(`the delivery thread stopped (${why})`));
    waiting.clear();
  };
  const start = () => {
    const started = new Worker(THREAD, { eval: true });
    started.unref();
    started.on('message', (reply: Reply) => {
      const w = waiting.get(reply.id);
      waiting.delete(reply.id);
      if (!waiting.size) started.unref();
      if ('error' in reply) w?.reject(errorOf(reply.error));
      else w?.resolve({ status: reply.status, text: reply.text, retryAfter: reply.retryAfter });
    });
    const died = (why: string) => {
      if (thread == started) thread = undefined;
      fail(started, why);
    };
    started.on('error', (error) => died(error.message));
    started.on('exit', (code) => died(`exit code ${code}`));
    return started;
  };
  const exchange: Exchange = (url, headers, payload, timeoutMs, signal) => {
    // Started here, outside the promise: a thread that cannot start throws to the caller.
    const current = (thread ??= start());
    return new Promise<Answer>((resolve, reject) => {
      if (signal.aborted) return reject(aborted());
      const id = next++;
      const onAbort = () => {
        if (!waiting.delete(id)) return;
        if (!waiting.size) current.unref();
        current.postMessage({ cancel: id });
        reject(aborted());
      };
      signal.addEventListener('abort', onAbort, { once: true });
      const settled = () => signal.removeEventListener('abort', onAbort);
      waiting.set(id, {
        resolve: (answer) => (settled(), resolve(answer)),
        reject: (error) => (settled(), reject(error)),
      });
      // While requests are out, the thread keeps the process alive (their answers are awaited).
      current.ref();
      current.postMessage({ id, url: url.href, headers, payload, timeoutMs } satisfies Ask);
    });
  };
  return {
    exchange,
    /** Ends the thread as a crash would (tests). */
    kill: () => {
      const current = thread;
      thread = undefined;
      fail(current, 'stopped');
    },
  };
};

let shared: ReturnType<typeof threadSender> | undefined;

/**
 * POSTs `payload` and resolves with the answer; rejects on network errors, a timeout (an error
 * named TimeoutError) or `signal`. Runs in the delivery thread when TRACKLET_DELIVERY_THREAD=1 (and
 * a thread can be started), else on the main event loop: on 2 cores shared with other work the
 * thread cost more CPU per event than it saved the event loop (docs/relay-throughput.md); it pays
 * where the relay has a core to spare.
 */
export const exchange: Exchange = (url, headers, payload, timeoutMs, signal) => {
  if (process.env.TRACKLET_DELIVERY_THREAD != '1')
    return inProcess(url, headers, payload, timeoutMs, signal);
  try {
    shared ??= threadSender();
    return shared.exchange(url, headers, payload, timeoutMs, signal);
  } catch {
    return inProcess(url, headers, payload, timeoutMs, signal);
  }
};

/** Ends the delivery thread as a crash would: the requests it had fail, the next starts another. */
export const killDeliveryThread = (): void => shared?.kill();
