// The local server of the browser runs: serves the test pages and the trackers' script files, and
// records every other request a tracker sends to it, whatever its path (each peer has its own ingest
// path). Listens on 127.0.0.1 only.
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { gunzipSync, inflateSync } from 'node:zlib';

/** The tracker's preset dictionary for zlib bodies (src/core/dictionary.ts: quoted pieces joined). */
const DICTIONARY = Buffer.from(
  [
    ...readFileSync(new URL('../../src/core/dictionary.ts', import.meta.url), 'utf8')
      .split('export const DICTIONARY =')[1]
      .matchAll(/'((?:[^'\\]|\\.)*)'/g),
  ]
    .map((match) => match[1].replace(/\\(.)/g, '$1'))
    .join(''),
);

/** A request body inflated where it is gzip or zlib (a peer's body that only looks so stays as it is). */
const inflated = (body) => {
  try {
    if (body[0] == 0x1f && body[1] == 0x8b) return gunzipSync(body);
    if (body[0] == 0x78) return inflateSync(body, { dictionary: DICTIONARY });
  } catch {
    // Not compressed after all.
  }
  return body;
};

/**
 * Starts the server; `pages` maps a path prefix to HTML and `files` an exact path to a script.
 * Everything else is a tracker request; the script files fetched are listed in `fetched`.
 */
/**
 * Benchmark events in a request. Each carries the name `bench_event` once, in whatever format the
 * tracker writes, except Tracklet's wire versions 2 and 4, which send a name every event of a body
 * shares once in `common`: those bodies are counted by their events.
 */
export const marksIn = (body, text) => {
  if (body.startsWith('{') && /"v":[24]/.test(body)) {
    try {
      const batch = JSON.parse(body);
      if ((batch.v === 2 || batch.v === 4) && Array.isArray(batch.events))
        return batch.events.filter(
          (event) => ({ ...batch.common, ...event }).name === 'bench_event',
        ).length;
    } catch {
      // Not JSON after all: counted as text.
    }
  }
  return text.split('bench_event').length - 1;
};

export const startBenchServer = async () => {
  const pages = new Map();
  const files = new Map();
  const requests = [];
  const fetched = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url || '/', 'http://127.0.0.1');
      const page = [...pages].find(
        ([prefix]) => url.pathname == prefix || url.pathname.startsWith(prefix + '/'),
      );
      if (req.method == 'GET' && files.has(url.pathname)) {
        fetched.push({ at: Date.now(), path: url.pathname });
        res.writeHead(200, {
          'Content-Type': 'text/javascript; charset=utf-8',
          'Cache-Control': 'no-store',
        });
        return res.end(files.get(url.pathname));
      }
      if (req.method == 'GET' && page) {
        res.writeHead(200, {
          'Content-Type': 'text/html; charset=utf-8',
          'Cache-Control': 'no-store',
        });
        return res.end(page[1]);
      }
      // The browser's own request for the page's icon is no tracker's: not recorded.
      if (req.method == 'GET' && url.pathname == '/favicon.ico') return res.writeHead(404).end();
      const body = Buffer.concat(chunks);
      // Tracklet's flushes arrive gzip-compressed, its beacons zlib with the preset dictionary: their
      // bytes are counted as sent, their text inflated.
      const plain = inflated(body);
      const text = plain.toString('utf8') + decodeURIComponent(url.search);
      requests.push({
        at: Date.now(),
        method: req.method,
        path: url.pathname,
        bytes: body.length + url.pathname.length + url.search.length,
        marks: marksIn(plain.toString('utf8'), text),
      });
      res.writeHead(200, {
        'Access-Control-Allow-Origin': req.headers.origin || '*',
        'Access-Control-Allow-Credentials': 'true',
        'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] || '*',
        'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
        'Content-Type': 'application/json',
      });
      res.end('{}');
    });
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    requests,
    fetched,
    page: (prefix, html) => pages.set(prefix, html),
    file: (path, code) => files.set(path, code),
    clear: () => void ((requests.length = 0), (fetched.length = 0)),
    marks: () => requests.reduce((sum, r) => sum + r.marks, 0),
    close: () =>
      new Promise((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
};
