/** SQLite schema versions: a file made before versions existed opens, is migrated, and keeps its rows. */
import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore, SQLITE_SCHEMA_VERSION } from '../../src/relay/sqlite';
import { tempDir } from './helpers';

/** The schema exactly as relays before versioned migrations created it (user_version stayed 0). */
const UNVERSIONED_SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  site TEXT NOT NULL, id TEXT NOT NULL, received_at INTEGER NOT NULL, data TEXT NOT NULL,
  PRIMARY KEY (site, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS deliveries (
  id INTEGER PRIMARY KEY,
  destination TEXT NOT NULL, site TEXT NOT NULL, event_id TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'queued', attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL, lease_until INTEGER NOT NULL DEFAULT 0,
  last_error TEXT, updated_at INTEGER NOT NULL,
  UNIQUE (destination, site, event_id)
);
CREATE INDEX IF NOT EXISTS deliveries_queued ON deliveries (destination, next_at) WHERE status = 'queued';
DROP INDEX IF EXISTS deliveries_due;
CREATE TABLE IF NOT EXISTS visitor_state (
  destination TEXT NOT NULL, visitor TEXT NOT NULL, value TEXT NOT NULL, updated_at INTEGER NOT NULL,
  PRIMARY KEY (destination, visitor)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rejected_events (
  id INTEGER PRIMARY KEY, site TEXT NOT NULL, received_at INTEGER NOT NULL, idx INTEGER NOT NULL,
  field TEXT NOT NULL, reason TEXT NOT NULL, raw TEXT NOT NULL, ip TEXT
);
CREATE TABLE IF NOT EXISTS suppressed (
  kind TEXT NOT NULL, value TEXT NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (kind, value)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS events_received ON events (received_at);
CREATE INDEX IF NOT EXISTS deliveries_event ON deliveries (site, event_id);
CREATE TABLE IF NOT EXISTS destination_log (
  destination TEXT PRIMARY KEY, last_error TEXT, last_error_at INTEGER, last_delivered_at INTEGER
);
`;

const dir = tempDir();
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

const event = (id: string) => ({
  site: 'shop',
  receivedAt: 1_000,
  time: 1_000,
  skewMs: 0,
  ip: '203.0.113.0',
  bot: false,
  event: {
    type: 'pageview',
    id,
    anonymousId: 'a1',
    sessionId: 's1',
    timestamp: 1_000,
    url: 'https://shop.example/',
    path: '/',
    title: 'Home',
    referrer: '',
  },
});

/**
 * A file as an unversioned relay left it: one event queued for a webhook (with the full IP when the
 * column exists), one dead letter, one refused event.
 */
const unversionedFile = (withIpColumn: boolean): string => {
  const file = join(dir, `old-${files++}.db`);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec(UNVERSIONED_SCHEMA);
  if (withIpColumn) db.exec('ALTER TABLE deliveries ADD COLUMN ip TEXT');
  db.exec(`CREATE TRIGGER IF NOT EXISTS events_pruned AFTER DELETE ON events BEGIN
             DELETE FROM deliveries WHERE site = old.site AND event_id = old.id;
           END`);
  const insertEvent = db.prepare(
    'INSERT INTO events (site, id, received_at, data) VALUES (?, ?, ?, ?)',
  );
  insertEvent.run('shop', 'e1', 1_000, JSON.stringify(event('e1')));
  insertEvent.run('shop', 'e2', 1_000, JSON.stringify(event('e2')));
  db.prepare(
    'INSERT INTO deliveries (destination, site, event_id, next_at, ' +
      "updated_at) VALUES ('shop/hook', 'shop', 'e1', 1000, 1000)",
  ).run();
  if (withIpColumn)
    db.prepare("UPDATE deliveries SET ip = '203.0.113.7' WHERE event_id = 'e1'").run();
  db.prepare(
    'INSERT INTO deliveries (destination, site, event_id, status, attempts, next_at, updated_at, ' +
      "last_error) VALUES ('shop/hook', 'shop', 'e2', 'dead', 3, 1000, 1500, 'HTTP 400')",
  ).run();
  db.prepare(
    "INSERT INTO destination_log (destination, last_error, last_error_at) VALUES ('shop/hook', 'HTTP 400', 1500)",
  ).run();
  db.prepare(
    'INSERT INTO rejected_events (site, received_at, idx, field, ' +
      "reason, raw) VALUES ('shop', 900, 0, 'type', 'unknown', '{}')",
  ).run();
  expect(db.pragma('user_version', { simple: true })).toBe(0);
  db.close();
  return file;
};

const versionOf = (file: string) => {
  const db = new Database(file, { readonly: true });
  try {
    return db.pragma('user_version', { simple: true });
  } finally {
    db.close();
  }
};

describe('SQLite schema versions', () => {
  it.each([
    ['with the ip column (the last unversioned relays)', true],
    ['without the ip column (the first release)', false],
  ])(
    'a file made %s opens, is migrated to the newest version and keeps its rows',
    async (_, withIpColumn) => {
      const file = unversionedFile(withIpColumn);
      const store = openSqliteStore(file);
      try {
        expect(await store.countEvents()).toBe(2);
        expect(await store.countRejected()).toBe(1);
        expect(await store.status()).toEqual([
          {
            destination: 'shop/hook',
            queued: 1,
            retrying: 0,
            delivered: 0,
            dead: 1,
            lastError: 'HTTP 400',
            lastErrorAt: 1500,
          },
        ]);
        const [leased] = await store.lease('shop/hook', 10, 2_000, 5_000);
        expect(leased.stored.event.id).toBe('e1');
        // The full IP queued by the old relay rides with the delivery; without the column, the stored one.
        expect(leased.stored.ip).toBe(withIpColumn ? '203.0.113.7' : '203.0.113.0');
        expect((await store.deadLetters('shop/hook')).map((d) => d.stored.event.id)).toEqual([
          'e2',
        ]);
        // The migrated file takes new events with their full IP.
        const fresh = { ...event('e3'), sendIp: '203.0.113.9' };
        const { inserted } = await store.insertEvents([fresh as never], () => ['shop/hook']);
        expect(inserted).toHaveLength(1);
        await store.markDelivered([leased.id], 2_100);
        const next = await store.lease('shop/hook', 10, 3_000, 6_000);
        expect(next.map((d) => [d.stored.event.id, d.stored.ip])).toEqual([['e3', '203.0.113.9']]);
      } finally {
        await store.close();
      }
      expect(versionOf(file)).toBe(SQLITE_SCHEMA_VERSION);
    },
  );

  it('opens a migrated file again without changing it, and a new file starts at the newest version', async () => {
    const file = unversionedFile(true);
    await openSqliteStore(file).close();
    const again = openSqliteStore(file);
    try {
      expect(await again.countEvents()).toBe(2);
    } finally {
      await again.close();
    }
    expect(versionOf(file)).toBe(SQLITE_SCHEMA_VERSION);
    const created = join(dir, 'new.db');
    await openSqliteStore(created).close();
    expect(versionOf(created)).toBe(SQLITE_SCHEMA_VERSION);
  });

  it('keeps pruning an event with its delivered rows in a migrated file', async () => {
    const file = unversionedFile(true);
    const store = openSqliteStore(file);
    try {
      const [leased] = await store.lease('shop/hook', 10, 2_000, 5_000);
      await store.markDelivered([leased.id], 2_100);
      // e1 is delivered (pruned with its row); e2 is still dead-lettered (kept).
      expect(await store.prune('events', 10_000, 100)).toBe(1);
      expect(await store.status()).toEqual([
        expect.objectContaining({ destination: 'shop/hook', delivered: 0, dead: 1 }),
      ]);
    } finally {
      await store.close();
    }
  });
});

describe('SQLite version 3: deliveries reference their event by row id', () => {
  /** A file at version 2 (the text-keyed layout): the unversioned file with its version set. */
  const version2File = () => {
    const file = unversionedFile(true);
    const db = new Database(file);
    // A delivery whose event is gone: never sendable, not carried over.
    db.prepare(
      'INSERT INTO deliveries (destination, site, event_id, next_at, ' +
        "updated_at) VALUES ('shop/hook', 'shop', 'gone', 1000, 1000)",
    ).run();
    db.pragma('user_version = 2');
    db.close();
    return file;
  };

  it('rebuilds a version-2 file: each delivery keeps its id, state and event; the old columns go', async () => {
    const file = version2File();
    const before = new Database(file, { readonly: true });
    const ids = before
      .prepare("SELECT id, event_id FROM deliveries WHERE event_id != 'gone' ORDER BY id")
      .all() as { id: number; event_id: string }[];
    before.close();
    const store = openSqliteStore(file);
    try {
      const [leased] = await store.lease('shop/hook', 10, 2_000, 5_000);
      expect([leased.id, leased.stored.event.id, leased.stored.ip]).toEqual([
        ids[0].id,
        'e1',
        '203.0.113.7',
      ]);
      const [dead] = await store.deadLetters('shop/hook');
      expect([dead.id, dead.stored.event.id, dead.attempts, dead.lastError]).toEqual([
        ids[1].id,
        'e2',
        3,
        'HTTP 400',
      ]);
      expect(await store.status()).toEqual([
        expect.objectContaining({ destination: 'shop/hook', queued: 1, dead: 1 }),
      ]);
      // Stored events keep deduplicating by (site, id) and queue by the new reference.
      const { inserted, duplicates } = await store.insertEvents(
        [event('e1'), event('e4')] as never,
        () => ['shop/hook'],
      );
      expect([inserted.map((e) => e.event.id), duplicates]).toEqual([['e4'], 1]);
      expect(await store.enqueue('shop/other', [{ site: 'shop', id: 'e4' }], 3_000)).toBe(1);
      expect(await store.enqueue('shop/other', [{ site: 'shop', id: 'e4' }], 3_000)).toBe(0);
    } finally {
      await store.close();
    }
    const db = new Database(file, { readonly: true });
    try {
      const columns = db.prepare("SELECT name FROM pragma_table_info('deliveries')").pluck().all();
      expect(columns).toContain('event');
      expect(columns).not.toContain('event_id');
      const indexes = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index'").pluck();
      expect(indexes.all()).not.toContain('deliveries_event');
      expect(db.pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
    } finally {
      db.close();
    }
  });

  it('deleting an event still takes its deliveries with it, and an erased visitor loses both', async () => {
    const file = version2File();
    const store = openSqliteStore(file);
    try {
      const [leased] = await store.lease('shop/hook', 10, 2_000, 5_000);
      await store.markDelivered([leased.id], 2_100);
      expect(await store.prune('events', 10_000, 100)).toBe(1);
      const erased = await store.erase({ anonymousId: 'a1' }, 3_000);
      expect([erased.events, erased.deliveries]).toEqual([1, 1]);
      expect(await store.status()).toEqual([
        expect.objectContaining({ queued: 0, delivered: 0, dead: 0 }),
      ]);
    } finally {
      await store.close();
    }
  });
});
