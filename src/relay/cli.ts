/**
 * `tracklet-relay`: runs the relay, or inspects its queue.
 *
 *   tracklet-relay [serve] --config relay.json [--port 8787] [--host 0.0.0.0] [--store relay.db |
 * --store postgres://…] [--admin-open]
 *   tracklet-relay check --config relay.json
 *   tracklet-relay status --config relay.json [--json]
 *   tracklet-relay dead-letters --config relay.json [--destination site/name] [--requeue] [--limit 100]
 *   tracklet-relay rejected --config relay.json [--limit 100] [--json]
 *   tracklet-relay erase --config relay.json (--anonymous-id ID | --user-id ID) [--json]
 *
 * Flags fall back to TRACKLET_CONFIG, TRACKLET_PORT (or PORT), TRACKLET_HOST, TRACKLET_STORAGE (or
 * DATABASE_URL). `--storage` is the older name of `--store`; a postgres:// URL scales out (docs/scaling-out.md).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { checkAdminExposure, ConfigError, resolveConfig, type RelayConfig } from './config';
import { redact as redactError } from './delivery';
import { openStore } from './open-store';
import type { Store } from './store';
import { startRelay } from './index';
// Bundled at build time: esbuild keeps only the `version` field.
import { version } from '../../package.json';

const USAGE =
  `usage: tracklet-relay [serve|check|status|dead-letters|rejected|erase] --config ` +
  `<file> [--port n] [--host h] [--store file|postgres://…] [--admin-open]
       status [--json]   dead-letters [--destination site/name] [--requeue] [--limit n]   rejected [--limit n] [--json]
       erase (--anonymous-id id | --user-id id) [--json]`;

/** `tracklet-relay <command> --help`: what that command does and takes. */
const HELP: Record<string, string> = {
  serve: `usage: tracklet-relay [serve] --config <file> [--port n] [--host h] [--store file|postgres://…]
Runs the relay: ingest, delivery to the configured destinations, admin routes.
  --config, -c   config file (JSON); env TRACKLET_CONFIG
  --port, -p     port (0: any free one); env TRACKLET_PORT or PORT; default 8787
  --host         address to listen on; env TRACKLET_HOST; default 127.0.0.1
  --store        SQLite file or postgres:// URL; env TRACKLET_STORAGE or DATABASE_URL; default tracklet-relay.db
  --admin-open   serve the admin routes without a token on a non-loopback host (refused otherwise)`,
  check: `usage: tracklet-relay check --config <file>
Validates the config file and the secrets it names in the environment; exits 1 naming the first problem.`,
  status: `usage: tracklet-relay status --config <file> [--store …] [--json]
Prints stored events and each destination's queue: queued, retrying, delivered, dead, last error.`,
  erase: `usage: tracklet-relay erase --config <file> [--store …] (--anonymous-id id | --user-id id) [--json]
Deletes a visitor's stored events, queued deliveries, destination state and refused events, and
suppresses the ids so later events of them are dropped at ingest (a running relay reads the list
within a minute). A user id also erases every anonymous id seen with it. What destinations already
received is not erased here: ask each of them.`,
  'dead-letters':
    `usage: tracklet-relay dead-letters --config <file> [--store …] ` +
    `[--destination site/name] [--limit n] [--json] [--requeue]
Lists deliveries that failed for good; --requeue sends them again (a running relay picks them up).`,
};

const fail = (message: string): never => {
  process.stderr.write(`tracklet-relay: ${message}\n`);
  process.exit(1);
};

/** Reads and validates the config file; any problem ends the process with one line naming the key. */
const load = (path: string | undefined): RelayConfig => {
  if (!path) return fail('no config file: pass --config <file> or set TRACKLET_CONFIG\n' + USAGE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return fail(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    return fail(`config file ${path} is not JSON: ${(error as Error).message}`);
  }
  try {
    return resolveConfig(input, process.env);
  } catch (error) {
    if (error instanceof ConfigError) return fail(`bad config in ${path}: ${error.message}`);
    throw error;
  }
};

/** A database URL without its password, for logs. */
const redact = (location: string) =>
  location.replace(/^(postgres(?:ql)?:\/\/[^:@/]*):[^@/]*@/i, '$1:***@');

/** The command line: flags and positionals; a flag it does not know ends the process with the usage. */
const parseCommandLine = () => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        port: { type: 'string', short: 'p' },
        host: { type: 'string' },
        storage: { type: 'string' },
        store: { type: 'string' },
        json: { type: 'boolean' },
        destination: { type: 'string' },
        requeue: { type: 'boolean' },
        limit: { type: 'string' },
        'anonymous-id': { type: 'string' },
        'user-id': { type: 'string' },
        'admin-open': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (error) {
    return fail(`${(error as Error).message}\n${USAGE}`);
  }
};

type Flags = ReturnType<typeof parseCommandLine>['values'];

/** Opens the store, runs `use` on it and closes it, whatever happens. */
const withStore = async (storage: string, use: (store: Store) => Promise<void>) => {
  const store = await openStore(storage).catch((error: Error) =>
    fail(`cannot open the store: ${error.message}`),
  );
  try {
    await use(store);
  } finally {
    await store.close();
  }
};

/** `erase`: a visitor's rows deleted, their ids suppressed. */
const erase = (values: Flags, storage: string) => {
  const who = { anonymousId: values['anonymous-id'], userId: values['user-id'] };
  if (!who.anonymousId == !who.userId)
    return fail(`erase: give --anonymous-id or --user-id (one of them)\n${HELP.erase}`);
  return withStore(storage, async (store) => {
    const erased = await store.erase(who, Date.now());
    if (values.json) return void process.stdout.write(JSON.stringify(erased, null, 2) + '\n');
    const suppressed = [
      ...erased.suppressed.anonymousIds.map((id) => `anonymousId ${id}`),
      ...erased.suppressed.userIds.map((id) => `userId ${id}`),
    ];
    process.stdout.write(
      `erased ${erased.events} event(s), ${erased.deliveries} delivery row(s), ` +
        `${erased.visitorState} destination state row(s), ${erased.rejected} refused event(s)\n` +
        `suppressed: ${suppressed.join(', ')}\n` +
        'events already delivered to destinations are not erased by the relay: request erasure from each destination\n',
    );
  });
};

/** `status`: stored and refused events, each configured destination's queue, and any other left in the store. */
const status = async (
  store: Store,
  config: RelayConfig,
  values: Flags,
  secretsOf: (key: string) => string[],
) => {
  // Redacted again on the way out: rows stored by an older relay may hold a URL's path or a secret.
  const counts = new Map(
    (await store.status()).map((c) => [
      c.destination,
      c.lastError ? { ...c, lastError: redactError(c.lastError, secretsOf(c.destination)) } : c,
    ]),
  );
  const keys = Object.values(config.sites).flatMap((s) => s.destinations.map((d) => d.key));
  const rows = [
    ...keys.map(
      (key) =>
        counts.get(key) ?? { destination: key, queued: 0, retrying: 0, delivered: 0, dead: 0 },
    ),
    // A destination the config no longer has (removed or renamed) keeps its queue: shown, marked.
    ...[...counts.values()]
      .filter((c) => !keys.includes(c.destination) && (c.queued || c.dead))
      .map((c) => ({ ...c, configured: false })),
  ];
  if (values.json)
    return void process.stdout.write(
      JSON.stringify(
        {
          events: await store.countEvents(),
          rejected: await store.countRejected(),
          destinations: rows,
        },
        null,
        2,
      ) + '\n',
    );
  process.stdout.write(`events stored: ${await store.countEvents()}\n`);
  process.stdout.write(
    `events refused: ${await store.countRejected()} (list them: tracklet-relay rejected)\n`,
  );
  process.stdout.write(
    'destination'.padEnd(32) + 'queued  retrying  delivered  dead  last error\n',
  );
  for (const r of rows) {
    const cells = [r.queued, r.retrying, r.delivered, r.dead].map(String);
    process.stdout.write(
      (r.destination + ('configured' in r ? ' (not configured)' : '')).padEnd(32) +
        cells[0].padEnd(8) +
        cells[1].padEnd(10) +
        cells[2].padEnd(11) +
        cells[3].padEnd(6) +
        (r.lastError ? r.lastError.slice(0, 120) : '') +
        '\n',
    );
  }
};

/** `rejected`: the newest refused events with their reasons. */
const rejected = async (store: Store, values: Flags) => {
  const rows = await store.rejected(Number(values.limit ?? 100) || 100);
  if (values.json) return void process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
  for (const r of rows)
    process.stdout.write(
      `${new Date(r.receivedAt).toISOString()}\t${r.site}\tevents.${r.index}\t${r.field}\t` +
        `${r.reason}\t${r.raw.slice(0, 200)}\n`,
    );
  process.stdout.write(
    `${rows.length} refused event(s) shown, ${await store.countRejected()} in all\n`,
  );
};

/** `dead-letters`: deliveries that failed for good, or (`--requeue`) them queued again. */
const deadLetters = async (store: Store, values: Flags, secretsOf: (key: string) => string[]) => {
  if (values.requeue) {
    const n = await store.requeue(values.destination, undefined, Date.now());
    return void process.stdout.write(
      `requeued ${n} dead letter(s); a running relay sends them on its next poll\n`,
    );
  }
  const letters = (
    await store.deadLetters(values.destination, Number(values.limit ?? 100) || 100)
  ).map((l) =>
    l.lastError ? { ...l, lastError: redactError(l.lastError, secretsOf(l.destination)) } : l,
  );
  if (values.json) return void process.stdout.write(JSON.stringify(letters, null, 2) + '\n');
  for (const l of letters)
    process.stdout.write(
      `${l.id}\t${l.destination}\t${l.stored.event.type}\t${l.stored.event.id}\tattempts=` +
        `${l.attempts}\t${l.lastError ?? ''}\n`,
    );
  process.stdout.write(`${letters.length} dead letter(s)\n`);
};

/** The commands that read the store: status, dead-letters, rejected. */
const report = (command: string, config: RelayConfig, values: Flags, storage: string) => {
  const secretsOf = (key: string) =>
    Object.values(config.sites).flatMap((s) =>
      s.destinations.filter((d) => d.key == key).flatMap((d) => Object.values(d.secrets)),
    );
  return withStore(storage, (store) =>
    command == 'status'
      ? status(store, config, values, secretsOf)
      : command == 'rejected'
        ? rejected(store, values)
        : deadLetters(store, values, secretsOf),
  );
};

/** `serve`: runs the relay until SIGTERM or SIGINT. */
const serveRelay = async (config: RelayConfig, port: number, host: string, storage: string) => {
  // The running relay logs one JSON object per line on stderr (level, time, msg), for log shippers;
  // written synchronously, so the last lines before a crash are not lost.
  const logger = pino({ name: 'tracklet-relay' }, pino.destination({ fd: 2, sync: true }));
  const relay = await startRelay({
    config,
    port,
    host,
    storePath: storage,
    log: (line) => (line.startsWith('retention:') ? logger.info(line) : logger.warn(line)),
  }).catch((error: Error) => fail(`cannot start: ${error.message}`));
  process.stdout.write(`tracklet relay listening on ${relay.url} (storage ${redact(storage)})\n`);
  if (relay.script)
    process.stdout.write(
      `script: <script defer src="${relay.script.src}" ` +
        `integrity="${relay.script.integrity}" crossorigin="anonymous"></script>\n`,
    );
  // What runs, without a secret: sites, origins and destinations by name and type, the settings that matter.
  logger.info(
    {
      version,
      url: relay.url,
      storage: redact(storage),
      sites: Object.fromEntries(
        Object.entries(config.sites).map(([name, site]) => [
          name,
          {
            origins: site.origins,
            dropBots: site.dropBots,
            destinations: site.destinations.map((d) => `${d.name} (${d.type})`),
          },
        ]),
      ),
      adminToken: config.adminToken ? 'set' : 'none',
      trustedProxies: config.trustedProxies,
      retentionDays: Object.fromEntries(
        Object.entries(config.retention.ages).map(([kind, ms]) => [kind, (ms ?? 0) / 86_400_000]),
      ),
      pollMs: config.pollMs,
    },
    'tracklet relay started',
  );
  if (!config.adminToken)
    logger.warn(
      `no adminTokenEnv configured: /status, /dead-letters and /events/stream are open to anyone who can reach ${host}`,
    );
  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    relay.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
};

const main = async () => {
  const { values, positionals } = parseCommandLine();
  if (values.version) return void process.stdout.write(version + '\n');
  if (values.help)
    return void process.stdout.write(((positionals[0] && HELP[positionals[0]]) || USAGE) + '\n');
  const command = positionals[0] ?? 'serve';
  const env = process.env;
  const config = load(values.config ?? env.TRACKLET_CONFIG);
  const storage =
    values.store ??
    values.storage ??
    env.TRACKLET_STORAGE ??
    env.DATABASE_URL ??
    config.storage ??
    'tracklet-relay.db';
  const portText = values.port ?? env.TRACKLET_PORT ?? env.PORT;
  const port = portText == undefined ? (config.port ?? 8787) : Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    return fail(`--port: "${portText}" is not a port number`);

  const host = values.host ?? env.TRACKLET_HOST ?? config.host ?? '127.0.0.1';
  if (values['admin-open']) config.adminOpen = true;
  if (command == 'check' || command == 'serve') {
    try {
      checkAdminExposure(config, host);
    } catch (error) {
      const path = values.config ?? env.TRACKLET_CONFIG;
      return fail(
        command == 'serve'
          ? `refusing to start with ${path}: ${(error as Error).message}`
          : `bad config in ${path}: ${(error as Error).message}`,
      );
    }
  }

  if (command == 'check')
    return void process.stdout.write(`config ok: ${Object.keys(config.sites).length} site(s)\n`);
  if (command == 'erase') return erase(values, storage);
  if (command == 'status' || command == 'dead-letters' || command == 'rejected')
    return report(command, config, values, storage);
  if (command != 'serve') return fail(`unknown command "${command}"\n${USAGE}`);
  return serveRelay(config, port, host, storage);
};

main().catch((error) => fail((error as Error).stack ?? String(error)));
