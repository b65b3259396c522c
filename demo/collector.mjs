// The demo's stand-in for the relay (src/collector), with its shape: `startRelay({ config, port,
// host, storePath | store })` resolves to `{ url, handler, store, close() }`; `handler` is the
// web-standard `(Request, { remoteAddress }) => Promise<Response>` serving POST /collect, /health,
// /status and the server-sent event stream /events/stream (`?replay=N` sends the last N first),
// each message one stored event `{ site, event, receivedAt, time, skewMs, ip, userAgent, bot }`.
// The demo switches to the real relay by changing its import line only. What this stand-in leaves
// out: validation beyond the basics, SQLite, dead-letter routes, destinations other than webhooks.
import { createServer } from 'node:http';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { toNodeListener } from './adapter.mjs';

const MAX_BODY = 131072;
const ATTEMPTS = 8;
const BOT = /bot\b|crawl|spider|headless|puppeteer|playwright|curl\/|wget|python-|node-fetch|undici/i;

/**
 * Stored events in memory, also appended as JSON lines to `path` when one is given (and read back
 * at start). Each (site, event id) is stored once: the tracker resends an event with the same id
 * when a delivery may have failed.
 */
export function createStore(path) {
  const events = [];
  const seen = new Set();
  const keep = (stored) => {
    const key = stored.site + '\n' + stored.event.id;
    if (seen.has(key)) return false;
    seen.add(key);
    events.push(stored);
    return true;
  };
  if (path && existsSync(path)) {
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      try {
        if (line) keep(JSON.parse(line));
      } catch {
        // A line cut short by a crash is skipped; the rest of the file is still good.
      }
    }
  } else if (path) mkdirSync(dirname(path), { recursive: true });
  return {
    /** Stores the events not seen before and returns them. */
    async insertEvents(batch) {
      const inserted = batch.filter(keep);
      if (path && inserted.length) appendFileSync(path, inserted.map((stored) => JSON.stringify(stored) + '\n').join(''));
      return { inserted, duplicates: batch.length - inserted.length };
    },
    /** Stored events, newest last. */
    events: async (limit = events.length) => events.slice(-limit),
    countEvents: async () => events.length,
    close: async () => {},
  };
}

const json = (status, body, headers = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers } });
const refuse = (status, error, field, message) => json(status, { error, field, message });

/** The first problem with a request body, or undefined when it is a batch of the wire format. */
const problem = (batch) => {
  if (!batch || typeof batch != 'object') return ['(body)', 'expected an object'];
  if (batch.v !== 1) return ['v', 'expected 1'];
  if (typeof batch.site != 'string' || !batch.site) return ['site', 'expected a non-empty string'];
  if (typeof batch.sentAt != 'number') return ['sentAt', 'expected a number'];
  if (!Array.isArray(batch.events) || !batch.events.length) return ['events', 'expected a non-empty array'];
  const bad = batch.events.findIndex(
    (event) => !event || typeof event.id != 'string' || typeof event.type != 'string' || typeof event.timestamp != 'number',
  );
  if (bad >= 0) return [`events.${bad}`, 'expected an event with id, type and timestamp'];
};

/**
 * Webhook delivery, the relay's way in small: each new event is queued per destination, sent in
 * batches as the wire format, and retried with doubling delays until it is delivered or, after
 * ATTEMPTS sends, dead.
 */
const createDelivery = (sites, pollMs) => {
  const queues = [];
  for (const [site, { destinations = [] }] of Object.entries(sites)) {
    for (const destination of destinations) {
      if (destination.type != 'webhook') throw new Error(`sites.${site}.destinations: the demo collector delivers to webhooks only`);
      const name = destination.name || destination.type;
      queues.push({ key: `${site}/${name}`, site, url: destination.url, type: 'webhook', pending: [], delivered: 0, dead: 0, recent: [] });
    }
  }
  let timer;
  let running = false;
  const record = (queue, send) => {
    queue.recent.push(send);
    if (queue.recent.length > 20) queue.recent.shift();
  };
  const pass = async () => {
    if (running) return;
    running = true;
    for (const queue of queues) {
      const due = queue.pending.filter((item) => item.due <= Date.now()).slice(0, 100);
      if (!due.length) continue;
      let error;
      try {
        const body = { v: 1, site: queue.site, sentAt: Date.now(), events: due.map((item) => item.stored.event) };
        const response = await fetch(queue.url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
        if (!response.ok) error = `HTTP ${response.status} from ${new URL(queue.url).pathname}`;
      } catch (failure) {
        error = `${queue.url}: ${failure.message}`;
      }
      record(queue, { at: Date.now(), ok: !error, events: due.length, ...(error && { error }) });
      for (const item of due) {
        if (!error) queue.delivered++;
        else if (++item.attempts >= ATTEMPTS) queue.dead++;
        else item.due = Date.now() + 1000 * 2 ** (item.attempts - 1);
        if (!error || item.attempts >= ATTEMPTS) queue.pending.splice(queue.pending.indexOf(item), 1);
        else item.lastError = error;
      }
    }
    running = false;
  };
  const loop = () => {
    timer = setTimeout(() => pass().finally(loop), pollMs);
  };
  if (queues.length) loop();
  return {
    enqueue(stored) {
      for (const queue of queues) if (queue.site == stored.site) queue.pending.push({ stored, attempts: 0, due: 0 });
    },
    kick: () => void pass(),
    status: () =>
      queues.map((queue) => ({
        destination: queue.key,
        queued: queue.pending.length,
        retrying: queue.pending.filter((item) => item.attempts > 0).length,
        delivered: queue.delivered,
        dead: queue.dead,
        type: queue.type,
        counters: {},
        recent: queue.recent,
      })),
    stop: () => clearTimeout(timer),
  };
};

/** Starts the collector on `host:port` (127.0.0.1 and a free port by default). */
export async function startRelay({ config, port = 0, host = '127.0.0.1', storePath, store } = {}) {
  const sites = config?.sites || {};
  store ||= createStore(storePath);
  const delivery = createDelivery(sites, config?.delivery?.pollMs || 1000);
  const streams = new Set();
  const encoder = new TextEncoder();
  const message = (stored) => `data: ${JSON.stringify(stored)}\n\n`;

  const publish = (inserted) => {
    const chunk = encoder.encode(inserted.map(message).join(''));
    for (const controller of streams) {
      try {
        controller.enqueue(chunk);
      } catch {
        streams.delete(controller);
      }
    }
  };

  const ingest = async (request, client) => {
    const text = await request.text();
    if (text.length > MAX_BODY) return refuse(413, 'body_too_large', '(body)', `the limit is ${MAX_BODY} bytes`);
    let batch;
    try {
      batch = JSON.parse(text);
    } catch {
      return refuse(400, 'invalid_json', '(body)', 'the body is not JSON');
    }
    const bad = problem(batch);
    if (bad) return refuse(400, 'invalid_body', ...bad);
    if (!Object.hasOwn(sites, batch.site)) return refuse(403, 'unknown_site', 'site', `no site "${batch.site.slice(0, 100)}" is configured`);
    const receivedAt = Date.now();
    // The visitor's clock may be off: it was `skew` behind ours when it sent the body.
    const skewMs = Math.round(receivedAt - batch.sentAt);
    const userAgent = request.headers.get('user-agent') || undefined;
    const ip = client?.remoteAddress?.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
    const { inserted, duplicates } = await store.insertEvents(
      batch.events.map((event) => ({
        site: batch.site,
        event,
        receivedAt,
        time: Math.min(receivedAt, Math.round(event.timestamp + skewMs)),
        skewMs,
        ...(ip && { ip }),
        ...(userAgent && { userAgent }),
        bot: !userAgent || BOT.test(userAgent),
      })),
    );
    inserted.forEach(delivery.enqueue);
    if (inserted.length) publish(inserted), delivery.kick();
    return json(200, { ok: true, accepted: inserted.length, duplicates });
  };

  const stream = (url) => {
    const replay = Math.min(Number(url.searchParams.get('replay')) || 0, 1000);
    let self;
    let ping;
    const body = new ReadableStream({
      async start(controller) {
        self = controller;
        controller.enqueue(encoder.encode(': tracklet demo collector\n\n'));
        if (replay) controller.enqueue(encoder.encode((await store.events(replay)).map(message).join('')));
        streams.add(controller);
        // A comment every 15 s keeps proxies from closing an idle stream.
        ping = setInterval(() => controller.enqueue(encoder.encode(': ping\n\n')), 15_000);
      },
      cancel() {
        clearInterval(ping);
        streams.delete(self);
      },
    });
    return new Response(body, { headers: { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' } });
  };

  /** The collector's routes, as a web-standard handler. */
  const handler = async (request, client) => {
    const url = new URL(request.url);
    const route = `${request.method} ${url.pathname}`;
    if (request.method == 'OPTIONS') return new Response(null, { status: 204, headers: { 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Headers': 'Content-Type' } });
    if (route == 'POST /collect' || route == 'POST /') return ingest(request, client);
    if (route == 'GET /health') return json(200, { status: 'ok' });
    if (route == 'GET /status') return json(200, { events: await store.countEvents(), destinations: delivery.status() });
    if (route == 'GET /events/stream') return stream(url);
    return refuse(404, 'not_found', 'path', `${route} is not served here`);
  };

  const server = createServer(toNodeListener(handler));
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return {
    url: `http://${host}:${server.address().port}`,
    handler,
    store,
    config,
    /** Stops delivery, ends the event streams and stops listening. */
    close: async () => {
      delivery.stop();
      for (const controller of streams) {
        try {
          controller.close();
        } catch {
          // Already closed by its reader.
        }
      }
      streams.clear();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await store.close();
    },
  };
}
