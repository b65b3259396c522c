// The Tracklet demo on one origin: a marketing site with the script tag, an SPA built from the npm
// package, the relay (POST /collect, /health, /status, /events/stream) and a live viewer of what
// it stores. `npm run demo` builds Tracklet and runs this; `--port` / PORT picks the port.
import { createServer } from 'node:http';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
// The relay, in-process: the same code `tracklet-relay` runs (built to dist/relay by build.mjs).
import { startRelay, toNodeListener } from 'tracklet/relay';

const DEMO = fileURLToPath(new URL('.', import.meta.url));
const ROOT = resolve(DEMO, '..');
const RELAY_ROUTES = new Set([
  '/collect',
  '/health',
  '/status',
  '/events/stream',
  '/dead-letters',
  '/dead-letters/requeue',
]);
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

/**
 * A hero illustration, sent late on purpose so that it is the page's Largest Contentful Paint. It
 * draws a detailed chart: Chromium ignores images of very few bytes per displayed pixel for LCP.
 */
const heroImage = (label) => {
  const bars = Array.from({ length: 160 }, (_, i) => {
    const height = Math.round(70 + 50 * Math.sin(i / 9) + 30 * Math.sin(i / 3.7) + i * 1.1);
    return `<rect x="${60 + i * 6.75}" y="${470 - height}" width="4.5" height="${height}" rx="1.5"/>`;
  }).join('');
  const grid = Array.from(
    { length: 9 },
    (_, i) => `<line x1="60" x2="1140" y1="${110 + i * 45}" y2="${110 + i * 45}"/>`,
  ).join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="520" viewBox="0 0 1200 520">
<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" ` +
    `stop-color="#4f46e5"/><stop offset="1" stop-color="#0ea5e9"/></linearGradient></defs>
<rect width="1200" height="520" rx="24" fill="url(#g)"/>
<g stroke="#fff" stroke-opacity=".15">${grid}</g>
<g fill="#fff" fill-opacity=".35">${bars}</g>
<g fill="none" stroke="#fff" stroke-width="6" stroke-linecap="round"><polyline points="60,380 ` +
    `300,300 430,330 580,220 720,250 880,140 1140,120"/></g>
<text x="60" y="80" font-family="system-ui,sans-serif" font-size="44" font-weight="700" fill="#fff">${label}</text>
</svg>`
  );
};

/**
 * The relay's config (its config-file format): both demo sites, each forwarding to two
 * webhooks served by the demo itself — a warehouse that always accepts, and a CRM that refuses one
 * request in three, so the viewer shows retries.
 */
const relayConfig = (origin) => {
  const destinations = ['warehouse', 'crm'].map((name) => ({
    type: 'webhook',
    name,
    url: `${origin}/demo/webhook/${name}`,
  }));
  const site = { origins: ['*'], destinations };
  return {
    sites: { 'marketing-site': site, 'web-app': site },
    // Every visitor of the demo is this machine: the viewer shows the address as received.
    storeIp: 'full',
    delivery: { pollMs: 500, backoffBaseMs: 1000, backoffMaxMs: 4000 },
  };
};

/** Bundles the SPA (demo/spa) from the npm build, as an app's bundler would: in memory, once. */
const bundleSpa = async () => {
  const result = await build({
    entryPoints: [join(DEMO, 'spa/main.ts')],
    bundle: true,
    format: 'esm',
    target: 'es2020',
    write: false,
    outdir: '/app',
    sourcemap: 'inline',
    alias: { tracklet: join(ROOT, 'dist/npm/index.js') },
    logLevel: 'warning',
  });
  return result.outputFiles[0].contents;
};

/** The file under `base` that `path` names (`/pricing` → pricing.html, `/` → index.html), if any. */
const findFile = (base, path) => {
  const file = resolve(base, '.' + decodeURIComponent(path));
  if (file != base && !file.startsWith(base + sep)) return;
  for (const candidate of [file, file + '.html', join(file, 'index.html')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
};

const sendFile = (res, file) => {
  res.writeHead(200, {
    'Content-Type': TYPES[extname(file)] || 'application/octet-stream',
    'Cache-Control': 'no-store',
  });
  res.end(readFileSync(file));
};

const notFound = (res) => {
  res.writeHead(404, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end(
    '<!doctype html><meta charset="utf-8"><title>Not found</title><p>Not found. <a href="/">Home</a>',
  );
};

/**
 * Starts the demo on `host:port` (port 0 picks a free one). Resolves to its URLs and `close()`;
 * rejects with the listen error (EADDRINUSE when the port is taken).
 * @param {{ port?: number, host?: string, storePath?: string, log?: (message: string) => void }} [options]
 */
export async function startDemo({
  port = 8080,
  host = '127.0.0.1',
  storePath,
  log = console.log,
} = {}) {
  if (!existsSync(join(ROOT, 'dist/tracklet.js')) || !existsSync(join(ROOT, 'dist/npm/index.js'))) {
    throw new Error(
      'Tracklet is not built yet: run `npm run demo` (it builds first) or `node build.mjs`.',
    );
  }
  const spa = await bundleSpa();
  let relay;
  let relayListener;
  const webhookCalls = { warehouse: 0, crm: 0 };
  const routes = {
    // The SPA's router handles every path under /app/ in the browser.
    app: (req, res, path) => {
      if (path == '/app/main.js') {
        res.writeHead(200, { 'Content-Type': TYPES['.js'], 'Cache-Control': 'no-store' });
        return res.end(spa);
      }
      sendFile(res, join(DEMO, 'spa/index.html'));
    },
    // The destinations' end: reads the batch and answers like an API would.
    webhook: (req, res, path) => {
      const name = path.split('/').pop();
      req.resume();
      req.on('end', () => {
        const calls = (webhookCalls[name] = (webhookCalls[name] || 0) + 1);
        res.writeHead(name == 'crm' && calls % 3 == 0 ? 503 : 200, {
          'Content-Type': 'application/json',
        });
        res.end('{}');
      });
    },
    slow: (req, res, path, url) => {
      const delay = Math.min(Number(url.searchParams.get('delay')) || 1200, 10_000);
      setTimeout(() => {
        res.writeHead(200, { 'Content-Type': TYPES['.svg'], 'Cache-Control': 'no-store' });
        res.end(heroImage(url.searchParams.get('label') || 'Every visit, counted once'));
      }, delay);
    },
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url || '/', 'http://localhost');
    const path = url.pathname;
    if (RELAY_ROUTES.has(path)) {
      if (relayListener) return relayListener(req, res);
      res.writeHead(503, { 'Retry-After': '1' });
      return res.end();
    }
    if (path.startsWith('/demo/webhook/')) return routes.webhook(req, res, path);
    if (path == '/app' || path.startsWith('/app/')) return routes.app(req, res, path);
    if (path.startsWith('/slow/')) return routes.slow(req, res, path, url);
    if (path == '/viewer') {
      res.writeHead(302, { Location: '/viewer/' });
      return res.end();
    }
    const file = path.startsWith('/dist/')
      ? findFile(join(ROOT, 'dist'), path.slice(5))
      : path.startsWith('/viewer/')
        ? findFile(join(DEMO, 'viewer'), path.slice(7))
        : findFile(join(DEMO, 'site'), path);
    if (file) return sendFile(res, file);
    notFound(res);
  });

  await new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(port, host, done);
  });
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${server.address().port}`;
  try {
    if (storePath) mkdirSync(dirname(storePath), { recursive: true });
    // The relay listens on a port of its own too; the demo serves its handler on the demo's origin.
    relay = await startRelay({
      config: relayConfig(origin),
      port: 0,
      host: '127.0.0.1',
      storePath,
      log: (line) => log?.(`delivery: ${line}`),
    });
  } catch (error) {
    server.close();
    throw error;
  }
  relayListener = toNodeListener(relay.handler);
  const urls = { site: origin + '/', spa: origin + '/app/', viewer: origin + '/viewer/' };
  log?.(
    `Tracklet demo is running:

  Marketing site   ${urls.site}
  SPA (npm build)  ${urls.spa}
  Live viewer      ${urls.viewer}   <- open this next to the others

Relay:     POST ${origin}/collect, ${origin}/status, ${origin}/events/stream
${storePath ? `Events are stored in ${storePath}\n` : ''}The demo's "crm" destination refuses one request in three: ` +
      `the retries show below and in the viewer.
Press Ctrl-C to stop.`,
  );

  return {
    url: origin,
    urls,
    relay,
    /** Stops the server and the relay, closing open viewers' streams. */
    close: async () => {
      await relay.close();
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    },
  };
}

/** `npm run demo [-- --port 8081 --host 127.0.0.1 --store file]`; flags win over PORT, HOST, STORE. */
const main = async () => {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      store: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(
      'Usage: npm run demo -- [--port 8080] [--host 127.0.0.1] [--store ' +
        '.tmp/demo.db]\n(or PORT=8080 HOST=127.0.0.1 STORE=… npm run demo)',
    );
    return;
  }
  const rawPort = values.port ?? process.env.PORT ?? '8080';
  const port = Number(rawPort);
  if (!/^\d+$/.test(rawPort) || port > 65535) {
    console.error(
      `--port/PORT must be a number from 0 to 65535, got "${rawPort}". Example: npm run demo -- --port 8081`,
    );
    process.exitCode = 1;
    return;
  }
  const host = values.host ?? process.env.HOST ?? '127.0.0.1';
  const storePath = resolve(values.store ?? process.env.STORE ?? join(ROOT, '.tmp/demo.db'));
  let demo;
  try {
    demo = await startDemo({ port, host, storePath });
  } catch (error) {
    const hints = {
      EADDRINUSE:
        `Port ${port} on ${host} is already in use (is another demo still running?).\nPick ` +
        `another port: npm run demo -- --port ${port + 1}   (or PORT=${port + 1} npm run demo)`,
      EACCES: `Port ${port} needs more privileges. Pick a port above 1024: npm run demo -- --port 8080`,
      EADDRNOTAVAIL: `Cannot listen on ${host}: not an address of this machine. Try --host 127.0.0.1`,
    };
    console.error(hints[error.code] || error.message);
    process.exitCode = 1;
    return;
  }
  let stopping = false;
  const stop = async (signal) => {
    // A second Ctrl-C while closing quits at once.
    if (stopping) process.exit(130);
    stopping = true;
    console.log(`\n${signal}: stopping the demo…`);
    await demo.close();
    console.log('Stopped.');
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
};

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href)
  await main();
