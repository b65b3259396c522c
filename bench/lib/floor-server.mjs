// The machine's floor for the relay: the least a server can do with a batch and still keep it —
// node:http, JSON.parse, and one SQLite WAL transaction per body that inserts each event and one
// queue row per destination (two). No validation, enrichment, delivery or anything else. Run as a
// process of its own: `node floor-server.mjs <file.sqlite>` prints `{ "url": … }` as one JSON line
// and, when its standard input closes, `{ "stored": n }` and exits.
import Database from 'better-sqlite3';
import { createServer } from 'node:http';

const db = new Database(process.argv[2]);
// The relay's SQLite settings: WAL, synchronous NORMAL.
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec(
  `CREATE TABLE IF NOT EXISTS events (site TEXT NOT NULL, id TEXT NOT NULL, received_at INTEGER ` +
    `NOT NULL, data TEXT NOT NULL, PRIMARY KEY (site, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS deliveries (destination TEXT NOT NULL, site TEXT NOT NULL, event_id ` +
    `TEXT NOT NULL, next_at INTEGER NOT NULL, PRIMARY KEY (destination, site, event_id));`,
);
const insertEvent = db.prepare(
  'INSERT OR IGNORE INTO events (site, id, received_at, data) VALUES (?, ?, ?, ?)',
);
const insertDelivery = db.prepare(
  'INSERT OR IGNORE INTO deliveries (destination, site, event_id, next_at) VALUES (?, ?, ?, ?)',
);
const store = db.transaction((site, events, now) => {
  for (const event of events) {
    insertEvent.run(site, String(event.id), now, JSON.stringify(event));
    insertDelivery.run(site + '/a', site, String(event.id), now);
    insertDelivery.run(site + '/b', site, String(event.id), now);
  }
});

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      store(String(body.site), body.events, Date.now());
      res
        .writeHead(202, { 'Content-Type': 'application/json' })
        .end(`{"accepted":${body.events.length}}`);
    } catch {
      res.writeHead(400, { 'Content-Type': 'application/json' }).end('{"error":"bad batch"}');
    }
  });
});
server.listen(0, '127.0.0.1', () =>
  console.log(JSON.stringify({ url: `http://127.0.0.1:${server.address().port}` })),
);
process.stdin.resume();
process.stdin.on('end', () => {
  console.log(JSON.stringify({ stored: db.prepare('SELECT count(*) AS n FROM events').get().n }));
  server.close();
  server.closeAllConnections();
  db.close();
  process.exit(0);
});
