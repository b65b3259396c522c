// Placeholder demo until the full demo lands: one page with the script tag and a collector that
// prints every event it receives. `npm run demo`, then open the printed URL.
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';

const port = Number(process.env.PORT || process.argv[2] || 8080);
const page = `<!doctype html><meta charset="utf-8"><title>Tracklet demo</title>
<script defer src="/tracklet.js" data-endpoint="/collect" data-site="demo" data-include-local="true" data-flush-interval="1000"></script>
<h1>Tracklet demo</h1><button onclick="tracklet.track('clicked',{at:Date.now()})">Track a click</button>
<a href="/?utm_source=demo&utm_campaign=launch">Land with a campaign</a>`;
const server = createServer((req, res) => {
  if (req.url === '/tracklet.js') {
    res.writeHead(200, { 'Content-Type': 'text/javascript' });
    return res.end(readFileSync(new URL('../dist/tracklet.js', import.meta.url)));
  }
  if (req.url === '/collect' && req.method === 'POST') {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      for (const event of JSON.parse(body).events) console.log(event.type, event.path, event.name || '', event.attribution || '');
      res.writeHead(204).end();
    });
    return;
  }
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(page);
});
server.on('error', (error) => {
  console.error(error.code === 'EADDRINUSE' ? `Port ${port} is in use: PORT=8081 npm run demo` : error.message);
  process.exit(1);
});
server.listen(port, '127.0.0.1', () => console.log(`Tracklet demo: http://127.0.0.1:${port}/`));
process.on('SIGINT', () => server.close(() => process.exit(0)));
