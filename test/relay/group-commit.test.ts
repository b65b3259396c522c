/**
 * SQLite's group commit holds at most GROUP_MAX writes per transaction: a burst is committed in
 * several transactions, with event-loop turns between them, each caller still answered in order.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { GROUP_MAX, groupCommit, openSqliteStore } from '../../src/relay/sqlite';
import { pageview } from './helpers';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the SQLite group commit', () => {
  it('commits a burst in transactions of at most GROUP_MAX writes, yielding between them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tracklet-group-'));
    dirs.push(dir);
    const db = new Database(join(dir, 'g.db'));
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (x INTEGER)');
    // A second connection sees only what was committed.
    const reader = new Database(join(dir, 'g.db'), { readonly: true });
    const committed = reader.prepare('SELECT COUNT(*) FROM t').pluck();
    const insert = db.prepare('INSERT INTO t (x) VALUES (?)');
    const { grouped } = groupCommit(db);
    const total = GROUP_MAX * 2 + 5;
    let turned = false;
    const seen: { committed: number; turned: boolean }[] = [];
    const results = await Promise.all(
      Array.from({ length: total }, (_, i) =>
        grouped(() => {
          if (i == 0) setImmediate(() => (turned = true));
          seen.push({ committed: committed.get() as number, turned });
          insert.run(i);
          return i;
        }),
      ),
    );
    expect(results).toEqual(Array.from({ length: total }, (_, i) => i));
    const before = seen.map((s) => s.committed);
    expect(before.slice(0, GROUP_MAX)).toEqual(Array(GROUP_MAX).fill(0));
    expect(before.slice(GROUP_MAX, 2 * GROUP_MAX)).toEqual(Array(GROUP_MAX).fill(GROUP_MAX));
    expect(before.slice(2 * GROUP_MAX)).toEqual(Array(5).fill(2 * GROUP_MAX));
    // Other work (here a callback queued by the first write) ran before the last transaction.
    expect(seen[0].turned).toBe(false);
    expect(seen[total - 1].turned).toBe(true);
    expect(committed.get()).toBe(total);
    reader.close();
    db.close();
  });

  it('a store closed with a burst still pending writes all of it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tracklet-group-'));
    dirs.push(dir);
    const path = join(dir, 'relay.db');
    const store = openSqliteStore(path);
    const stored = Array.from({ length: GROUP_MAX * 3 }, () => ({
      site: 'shop',
      event: pageview(),
      receivedAt: Date.now(),
      time: Date.now(),
      skewMs: 0,
      bot: false,
    }));
    const inserts = stored.map((s) => store.insertEvents([s], () => ['shop/webhook']));
    await store.close();
    expect((await Promise.all(inserts)).every((r) => r.inserted.length == 1)).toBe(true);
    const again = openSqliteStore(path);
    expect(await again.countEvents?.()).toBe(GROUP_MAX * 3);
    await again.close();
  });
});
