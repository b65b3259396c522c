/**
 * SQLite checkpoints in a thread (checkpoint.ts): the store's connection stops checkpointing on the
 * event loop while the thread runs, the thread moves the WAL's pages into the database file, and
 * the store's connection takes the checkpoints back when the thread stops or cannot start.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { checkpointer, WAL_BACKSTOP_PAGES } from '../../src/relay/checkpoint';
import { CHECKPOINT_THREAD_AFTER, openSqliteStore } from '../../src/relay/sqlite';
import { pageview } from './helpers';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'tracklet-checkpoint-'));
  dirs.push(dir);
  return dir;
};
const until = async (check: () => boolean, ms = 5_000) => {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return check();
};
const autocheckpoint = (db: Database.Database) =>
  db.pragma('wal_autocheckpoint', { simple: true }) as number;

describe('the SQLite checkpoint thread', () => {
  it('takes the checkpoints off the connection while it runs, and gives them back when closed', async () => {
    const path = join(tempDir(), 'c.db');
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (x TEXT)');
    const thread = checkpointer(db, path, { everyMs: 20 });
    expect(autocheckpoint(db)).toBe(1000);
    thread.start();
    expect(await until(() => thread.running())).toBe(true);
    expect(autocheckpoint(db)).toBe(WAL_BACKSTOP_PAGES);
    // Far below the 1,000 pages at which the connection would checkpoint by itself: only the
    // thread moves these pages into the database file.
    const before = statSync(path).size;
    const insert = db.prepare('INSERT INTO t (x) VALUES (?)');
    db.transaction(() => {
      for (let i = 0; i < 200; i++) insert.run('x'.repeat(1000));
    })();
    expect(await until(() => statSync(path).size > before + 150_000)).toBe(true);
    await thread.close();
    expect(thread.running()).toBe(false);
    expect(autocheckpoint(db)).toBe(1000);
    db.close();
  });

  it('keeps the WAL bounded under steady commits: the connection still checkpoints past the backstop', async () => {
    const path = join(tempDir(), 'c.db');
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (x TEXT)');
    // The thread's timer never fires in this test: only the backstop can bound the WAL.
    const thread = checkpointer(db, path, { everyMs: 600_000, backstopPages: 50 });
    thread.start();
    expect(await until(() => thread.running())).toBe(true);
    const insert = db.prepare('INSERT INTO t (x) VALUES (?)');
    // 400 commits of about a page each: 1.6 MB of WAL if nothing checkpointed.
    for (let i = 0; i < 400; i++) insert.run('x'.repeat(3000));
    expect(statSync(path + '-wal').size).toBeLessThan(500_000);
    expect(statSync(path).size).toBeGreaterThan(1_000_000);
    await thread.close();
    db.close();
  });

  it('leaves the checkpoints to the connection when the thread cannot open the file', async () => {
    const path = join(tempDir(), 'c.db');
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    const thread = checkpointer(db, join(tempDir(), 'missing', 'gone.db'), { everyMs: 20 });
    thread.start();
    await new Promise((r) => setTimeout(r, 500));
    expect(thread.running()).toBe(false);
    expect(autocheckpoint(db)).toBe(1000);
    await thread.close();
    db.close();
  });

  it('starts no thread for an in-memory database', async () => {
    const db = new Database(':memory:');
    const thread = checkpointer(db, ':memory:');
    thread.start();
    await new Promise((r) => setTimeout(r, 200));
    expect(thread.running()).toBe(false);
    await thread.close();
    db.close();
  });

  it('a store under steady writes starts it, and keeps every event across close and reopen', async () => {
    const path = join(tempDir(), 'relay.db');
    const store = openSqliteStore(path);
    const bodies = CHECKPOINT_THREAD_AFTER + 20;
    const results = await Promise.all(
      Array.from({ length: bodies }, () =>
        store.insertEvents(
          Array.from({ length: 5 }, () => ({
            site: 'shop',
            event: pageview(),
            receivedAt: Date.now(),
            time: Date.now(),
            skewMs: 0,
            bot: false,
          })),
          () => ['shop/a', 'shop/b'],
        ),
      ),
    );
    expect(results.every((r) => r.inserted.length == 5)).toBe(true);
    // About a hundred pages, far below the 1,000 at which the store's connection would checkpoint:
    // the database file grows only by the thread's checkpoints.
    const before = statSync(path).size;
    expect(await until(() => statSync(path).size > before)).toBe(true);
    await store.close();
    const again = openSqliteStore(path);
    expect(await again.countEvents?.()).toBe(bodies * 5);
    await again.close();
  });
});
