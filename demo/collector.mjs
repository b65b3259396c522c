// The demo's stand-in collector. It has the relay's shape — `startRelay({ port, host, storePath |
// store, config })` resolving to `{ url, close(), handler, store }`, with the routes POST /collect,
// GET /health, GET /status and the SSE stream GET /events/stream — so the demo switches to the real
// relay (src/collector, built to dist/collector/index.js) by changing its import line only.
import { createServer } from 'node:http';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Largest body accepted: the tracker never sends more than 64 KiB per request. */
const MAX_BODY = 256 * 1024;
/** Stored events replayed to a viewer that connects (or reconnects) to /events/stream. */
const REPLAY = 5000;

/**
 * An event store in memory, also appended as JSON lines to `path` when one is given (and read back
 * from it at start), so a restarted demo shows what it received before. Counts each event id once:
 * the tracker resends an event with the same id when a delivery failed.
 */
export function createStore(path) {
  const events = [];
  const seen = new Set();
  const listeners = new Set();
  if (path && existsSync(path)) {
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (!line) continue;
      try {
        const event = JSON.parse(line);
        if (!seen.has(event.id)) seen.add(event.id), events.push(event);
      } catch {
        // A line cut short by a crash is skipped; the rest of the file is still good.
      }
    }
  } else if (path) mkdirSync(dirname(path), { recursive: true });
  return {
    /** Stores events not seen before; returns how many were new. */
    add(batch) {
      const fresh = batch.filter((event) => !seen.has(event.id));
      for (const event of fresh) seen.add(event.id), events.push(event);
      if (path && fresh.length) appendFileSync(path, fresh.map((event) => JSON.stringify(event) + '\n').join(''));
      for (const listener of listeners) for (const event of fresh) listener(event);
      return fresh.length;
    },
    /** The stored events, oldest first. */
    all: () => events.slice(),
    get count() {
      return events.length;
    },
    /** Calls `listener` with every event stored from now on; returns the unsubscribe function. */
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

const json = (res, status, body) => {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
};

/** True for a value that looks like one event of the wire format (see src/types.ts). */
const isEvent = (event) =>
  event && typeof event == 'object' && typeof event.id == 'string' && typeof event.type == 'string' &&
  typeof event.timestamp == 'number';

/** Reads a request body up to MAX_BODY bytes; resolves undefined when it is larger. */
const readBody = (req) =>
  new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_BODY ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

/**
 * Starts the collector on `host:port` (127.0.0.1 and a free port by default). Its `handler` can
 * also be mounted on a server of your own, as the demo does to keep everything on one origin.
 */
export async function startRelay({ port = 0, host = '127.0.0.1', storePath, store, config = {} } = {}) {
  store ||= createStore(storePath);
  const startedAt = Date.now();
  const streams = new Set();
  const stats = { requests: 0, accepted: 0, duplicates: 0, rejected: 0, lastReceivedAt: null };

  const collect = async (req, res) => {
    stats.requests++;
    const body = await readBody(req);
    if (body === undefined) return stats.rejected++, json(res, 413, { error: 'body too large' });
    let batch;
    try {
      batch = JSON.parse(body);
    } catch {
      return stats.rejected++, json(res, 400, { error: 'body is not JSON' });
    }
    if (!batch || !Array.isArray(batch.events)) return stats.rejected++, json(res, 400, { error: 'expected { events: [...] }' });
    const receivedAt = Date.now();
    const enrich = {
      receivedAt,
      site: String(batch.site || ''),
      ip: req.headers['x-forwarded-for']?.split(',')[0].trim() || req.socket.remoteAddress || '',
      userAgent: req.headers['user-agent'] || '',
    };
    const valid = batch.events.filter(isEvent);
    stats.rejected += batch.events.length - valid.length;
    const added = store.add(valid.map((event) => ({ ...event, ...enrich })));
    stats.accepted += added;
    stats.duplicates += valid.length - added;
    stats.lastReceivedAt = receivedAt;
    res.writeHead(204, { 'Access-Control-Allow-Origin': req.headers.origin || '*' });
    res.end();
  };

  // Server-sent events: every stored event (the last REPLAY first), then each new one as it is stored.
  const stream = (req, res) => {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
    });
    const send = (event) => res.write(`id: ${event.id}\ndata: ${JSON.stringify(event)}\n\n`);
    res.write('retry: 1000\n\n');
    store.all().slice(-REPLAY).forEach(send);
    const unsubscribe = store.subscribe(send);
    // A comment line every 15 s keeps idle proxies and browsers from dropping the connection.
    const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
    const end = () => {
      clearInterval(ping);
      unsubscribe();
      streams.delete(end);
      res.end();
    };
    streams.add(end);
    req.on('close', end);
  };

  const routes = {
    'POST /collect': collect,
    'OPTIONS /collect': (req, res) => {
      res.writeHead(204, { 'Access-Control-Allow-Origin': req.headers.origin || '*', 'Access-Control-Allow-Headers': '*' });
      res.end();
    },
    'GET /health': (req, res) => json(res, 200, { ok: true }),
    'GET /status': (req, res) =>
      json(res, 200, {
        ok: true,
        startedAt,
        uptime: Date.now() - startedAt,
        stored: store.count,
        ...stats,
        // The demo collector only stores: it delivers to no destination.
        destinations: config.destinations || [],
      }),
    'GET /events/stream': stream,
  };

  /** Node request listener for the collector's routes; answers 404 to anything else. */
  const handler = (req, res) => {
    const route = routes[`${req.method} ${new URL(req.url || '/', 'http://localhost').pathname}`];
    if (!route) return json(res, 404, { error: 'not found' });
    Promise.resolve(route(req, res)).catch((error) => {
      if (!res.headersSent) json(res, 500, { error: String(error?.message || error) });
      else res.end();
    });
  };

  const server = createServer(handler);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });

  return {
    url: `http://${host}:${server.address().port}`,
    handler,
    store,
    /** Ends the event streams and stops listening. */
    close: async () => {
      for (const end of streams) end();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
