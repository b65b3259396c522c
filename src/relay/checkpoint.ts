/**
 * SQLite checkpoints in a thread of their own. In WAL mode every commit appends to the `-wal` file;
 * by default the commit that takes it past 1,000 pages also copies them back into the database file
 * and syncs it, on the event loop: under the bench load one group commit in about 15 took 40–60 ms
 * instead of 13, and every request waiting for it took that long too (docs/relay-throughput.md).
 * Here a thread with a connection of its own runs PASSIVE checkpoints (they neither wait for nor
 * block the writer) a few times a second, and the store's connection checkpoints only past a far
 * larger WAL ({@link WAL_BACKSTOP_PAGES}) while the thread runs. Durability is the WAL's, as before:
 * a checkpoint only moves committed pages into the database file. If the thread cannot start (no
 * `better-sqlite3` it can load) or dies, the store's connection checkpoints as it did before.
 */
import type Database from 'better-sqlite3';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

/** How often the thread checkpoints; each copies what was committed since the last one. */
export const CHECKPOINT_EVERY_MS = 200;

/**
 * WAL pages at which the store's connection still checkpoints while the thread runs (SQLite's
 * default is 1,000). Needed: a passive checkpoint that overlaps a commit never finds the whole WAL
 * copied, so under steady writes the WAL would never start over and would grow without bound (800 MB
 * in 35 s of the bench load). The writer's own checkpoint, with no commit beside it, completes (the
 * thread has already copied most pages, so it is short) and the WAL starts over: about 40 MB at most.
 */
export const WAL_BACKSTOP_PAGES = 10_000;

/** The thread: its own connection, a PASSIVE checkpoint on a timer, closed when asked. */
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path, { fileMustExist: true });
const timer = setInterval(() => db.pragma('wal_checkpoint(PASSIVE)'), workerData.everyMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
parentPort.postMessage('ready');`;

/** Where `better-sqlite3` loads from for the thread: beside the running program, else the working directory. */
const sqliteModule = (): string | undefined => {
  for (const from of [process.argv[1], join(process.cwd(), 'index.js')])
    try {
      if (from) return createRequire(from).resolve('better-sqlite3');
    } catch {
      // Not there: the next place.
    }
  return undefined;
};

/** The store's side of the checkpoint thread. */
export interface Checkpointer {
  /** Starts the thread (once); until it is ready, and if it fails, the store's connection checkpoints. */
  start(): void;
  /** True while the thread does the checkpoints. */
  running(): boolean;
  /** Closes the thread's connection (before the store closes its own, which then checkpoints last). */
  close(): Promise<void>;
}

/** The checkpoint thread of the SQLite file at `path` (none for an in-memory database). */
export const checkpointer = (
  db: Database.Database,
  path: string,
  options: { everyMs?: number; backstopPages?: number; log?: (line: string) => void } = {},
): Checkpointer => {
  let thread: Worker | undefined;
  let ready = false;
  let exited: Promise<void> = Promise.resolve();
  // Back to checkpoints by the store's own connection (SQLite's default).
  const fallBack = () => {
    ready = false;
    if (db.open) db.pragma('wal_autocheckpoint = 1000');
  };
  return {
    start() {
      if (thread || db.memory || path == ':memory:' || path == '') return;
      const module = sqliteModule();
      if (!module) return;
      try {
        thread = new Worker(THREAD, {
          eval: true,
          workerData: { module, path, everyMs: options.everyMs ?? CHECKPOINT_EVERY_MS },
        });
      } catch {
        return;
      }
      thread.unref();
      exited = new Promise((done) => thread!.once('exit', () => done()));
      thread.on('message', (message) => {
        if (message != 'ready' || !db.open) return;
        db.pragma(`wal_autocheckpoint = ${options.backstopPages ?? WAL_BACKSTOP_PAGES}`);
        ready = true;
      });
      thread.on('error', (error) => {
        options.log?.(`sqlite: checkpoint thread stopped: ${error.message}`);
        fallBack();
      });
      thread.on('exit', fallBack);
    },
    running: () => ready,
    async close() {
      if (!thread) return;
      thread.postMessage('close');
      const timer = setTimeout(() => void thread?.terminate(), 2_000);
      await exited;
      clearTimeout(timer);
    },
  };
};
