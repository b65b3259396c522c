/**
 * The group commit keeps its savepoints' pages in memory (temp_store = MEMORY) for its transaction
 * only: a write that fails after changing more than the 64 KiB SQLite would otherwise spill to a
 * temporary file is still undone alone, and the connection is back to the default afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { groupCommit } from '../../src/relay/sqlite';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the group commit and temporary storage', () => {
  it('undoes a large failing write alone and leaves temp_store at its default', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tracklet-temp-'));
    dirs.push(dir);
    const db = new Database(join(dir, 't.db'));
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT)');
    const insert = db.prepare('INSERT INTO t (k, v) VALUES (?, ?)');
    const big = 'x'.repeat(2000);
    const { grouped } = groupCommit(db);
    const rows = (prefix: string) => () => {
      for (let i = 0; i < 100; i++) insert.run(`${prefix}-${i}`, big);
      return prefix;
    };
    const failing = () => {
      rows('bad')();
      insert.run('bad-0', 'duplicate key: this write fails after 200 KB of changes');
    };
    const results = await Promise.allSettled([
      grouped(rows('a')),
      grouped(failing),
      grouped(rows('b')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const count = (prefix: string) =>
      db.prepare('SELECT COUNT(*) FROM t WHERE k LIKE ?').pluck().get(`${prefix}-%`);
    expect([count('a'), count('bad'), count('b')]).toEqual([100, 0, 100]);
    expect(db.pragma('temp_store', { simple: true })).toBe(0);
    db.close();
  });
});
