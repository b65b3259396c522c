/**
 * Shared fixture of the real-browser tests: a local server on 127.0.0.1 that serves the built
 * `dist/` files and test pages, with a recording collector, and Debian's Chromium driven by
 * playwright-core.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { canonicalBody, decodeBody } from '../../src/relay/wire';
import type { Batch, TrackletEvent, WireBatch } from '../../src/types';

const ROOT = resolve(import.meta.dirname, '../..');
const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.map': 'application/json',
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css',
};

/** One request the collector received. */
export interface Received {
  path: string;
  contentType: string;
  body: string;
  /** Whether the body arrived gzip-compressed. */
  gzip: boolean;
  /** Whether the body arrived zlib-compressed with the preset dictionary (src/core/dictionary.ts). */
  zlib: boolean;
  /** Its length on the wire, in bytes. */
  bytes: number;
  batch?: Batch;
  headers: IncomingMessage['headers'];
  /** Status the collector answered with. */
  status: number;
}

/** What a route answers: a page's HTML, or a handler for anything else. */
export type Route = string | ((req: IncomingMessage, res: ServerResponse, body: string) => void);

export interface TestServer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** Every request the collector (`/collect`) received, in order. */
  received: Received[];
  /** Every event the collector accepted (2xx), in order, counted once per id as a collector dedupes. */
  events(): TrackletEvent[];
  /** Serves `html` (or a handler) at `path`. */
  route(path: string, route: Route): void;
  /** Status the collector answers with (204 by default). */
  collectorStatus: number;
  /** Resolves once `predicate` holds for the received events (polls; rejects after `timeout` ms). */
  waitFor(
    predicate: (events: TrackletEvent[]) => boolean,
    timeout?: number,
  ): Promise<TrackletEvent[]>;
  /** Forgets what was received. */
  clear(): void;
  close(): Promise<void>;
}

/**
 * A body as the tests read it: version 4 (compact) or 2 (shared fields once in `common`) rebuilt
 * into complete events as the relay does. The (inflated) text stays in `Received.body`.
 */
export const canonical = (body: Batch | WireBatch): Batch =>
  (body as { v: number }).v == 4
    ? ((canonicalBody(body) as { body: Batch }).body ?? body)
    : body.v == 2
      ? {
          v: 1,
          site: body.site,
          sentAt: body.sentAt,
          events: body.events.map((event) => ({ ...body.common, ...event }) as TrackletEvent),
        }
      : body;

/** The customer's snippet: the built script on a `defer` tag with `data-*` attributes. */
export const scriptTag = (
  attributes: Record<string, string> = {},
  src = '/dist/tracklet.js',
): string => {
  const all = { endpoint: '/collect', site: 'test-site', 'include-local': 'true', ...attributes };
  const data = Object.entries(all)
    .map(([key, value]) => ` data-${key}="${value.replace(/"/g, '&quot;')}"`)
    .join('');
  return `<script defer src="${src}"${data}></script>`;
};

/** A minimal HTML page with `head` content and `body`. */
export const html = (head: string, body = '', title = 'Test page'): string =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title>${head}</head><body>${body}</body></html>`;

/** Starts the server on a free port of 127.0.0.1. */
export const startServer = async (): Promise<TestServer> => {
  const routes = new Map<string, Route>();
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      // Flushes arrive gzip-compressed: inflated as the relay does (decodeBody).
      const raw = Buffer.concat(chunks);
      const decoded = decodeBody(raw, 1 << 24);
      const body = 'text' in decoded ? decoded.text : raw.toString('utf8');
      const url = new URL(req.url || '/', 'http://127.0.0.1');
      const route = routes.get(url.pathname);
      if (typeof route == 'function') return route(req, res, body);
      if (typeof route == 'string') {
        res.writeHead(200, { 'Content-Type': TYPES['.html'], 'Cache-Control': 'no-store' });
        return res.end(route);
      }
      if (url.pathname == '/collect') {
        if (req.method == 'OPTIONS') {
          res.writeHead(204, {
            'Access-Control-Allow-Origin': '*',
            'Access-Control-Allow-Headers': '*',
          });
          return res.end();
        }
        let batch: Batch | undefined;
        try {
          batch = canonical(JSON.parse(body));
        } catch {
          // Recorded as received; the test decides whether that is a failure.
        }
        const status = fixture.collectorStatus;
        received.push({
          path: url.pathname,
          contentType: req.headers['content-type'] || '',
          body,
          gzip: raw.length > 1 && raw[0] == 0x1f && raw[1] == 0x8b,
          zlib: raw.length > 1 && raw[0] == 0x78 && raw[1] == 0x20,
          bytes: raw.length,
          batch,
          headers: req.headers,
          status,
        });
        res.writeHead(status, { 'Access-Control-Allow-Origin': req.headers.origin || '*' });
        return res.end();
      }
      const file = join(ROOT, url.pathname);
      if (url.pathname.startsWith('/dist/') && file.startsWith(ROOT) && existsSync(file)) {
        res.writeHead(200, { 'Content-Type': TYPES[extname(file)] || 'application/octet-stream' });
        return res.end(readFileSync(file));
      }
      res.writeHead(404);
      res.end('not found');
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  const events = () => {
    const seen = new Set<string>();
    return received
      .filter((request) => request.status < 300)
      .flatMap((request) => request.batch?.events || [])
      .filter((event) => !seen.has(event.id) && seen.add(event.id));
  };
  const fixture: TestServer = {
    origin: `http://127.0.0.1:${port}`,
    received,
    events,
    collectorStatus: 204,
    route: (path, route) => routes.set(path, route),
    waitFor: async (predicate, timeout = 10_000) => {
      const end = Date.now() + timeout;
      while (!predicate(events())) {
        if (Date.now() > end)
          throw new Error(
            `timed out; received: ${JSON.stringify(events(), null, 1).slice(0, 4000)}`,
          );
        await new Promise((done) => setTimeout(done, 25));
      }
      return events();
    },
    clear: () => {
      received.length = 0;
    },
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
  return fixture;
};

/**
 * Waits until none of `servers` received anything for 250 ms (at most 3 s). A page the previous test
 * closed may still deliver its last beacon (engagement, vitals); a test's `beforeEach` waits for it
 * before clearing, so that it is not counted in the next test.
 */
export const untilQuiet = async (...servers: TestServer[]): Promise<void> => {
  const count = () => servers.reduce((sum, server) => sum + server.received.length, 0);
  for (let tries = 0, before = -1; tries < 12 && before != count(); tries++) {
    before = count();
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
};

/** Debian's Chromium, headless, with the flags this machine needs. */
export const launchBrowser = async (): Promise<{
  browser: Browser;
  newContext(): Promise<BrowserContext>;
  close(): Promise<void>;
}> => {
  // Playwright starts every launch on a new, empty profile in a temporary folder of its own.
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    // Playwright turns the back/forward cache off by default; visitors' browsers have it on.
    ignoreDefaultArgs: ['--disable-back-forward-cache'],
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
  return {
    browser,
    newContext: () => browser.newContext(),
    close: async () => {
      await browser.close();
    },
  };
};
