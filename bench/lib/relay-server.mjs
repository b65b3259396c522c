// The relay under load, in a process of its own: starts the built relay on 127.0.0.1 with a SQLite
// file store, prints its URL as one JSON line, and when its standard input closes prints how many
// events it stored and stops.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const entry = resolve(import.meta.dirname, '../../dist/collector/index.js');
if (!existsSync(entry)) {
  console.log(JSON.stringify({ error: 'dist/collector/index.js is missing' }));
  process.exit(0);
}
const { startRelay } = await import(pathToFileURL(entry).href);
const relay = await startRelay({
  port: 0,
  host: '127.0.0.1',
  storePath: process.argv[2],
  config: { sites: { bench: { origins: ['*'] } } },
});
console.log(JSON.stringify({ url: relay.url }));
process.stdin.resume();
process.stdin.on('end', async () => {
  // What was stored, so the load side can check that every accepted event was kept.
  console.log(JSON.stringify({ stored: await relay.store.countEvents?.() }));
  await relay.close();
  process.exit(0);
});
