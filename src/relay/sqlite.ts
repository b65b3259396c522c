/** The embedded default store: one SQLite file (or `:memory:`), WAL mode, via better-sqlite3. */
import Database from 'better-sqlite3';
import {
  REJECTED_RAW_MAX,
  type Delivery,
  type Erased,
  type PruneKind,
  type RejectedEvent,
  type Store,
  type StoredEvent,
} from './store';
import { checkpointer } from './checkpoint';
import { storedJson } from './json-once';
import {
  DELIVERY_COLUMNS,
  mergeStatus,
  toDelivery,
  toRejected,
  toSuppressed,
  type CountRow,
  type DeliveryRow,
  type LogRow,
  type RejectedRow,
} from './store-rows';

/**
 * The schema as it stood when versions were introduced. A file made before has `user_version` 0
 * and these tables already: every statement is `IF NOT EXISTS`, so it is adopted as it is.
 */
const SCHEMA_V1 = `
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
-- The queue's hot path: due work of one destination. Only queued rows are in it, so a delivered
-- row leaves it (one index write) instead of moving within it (two).
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
-- Retention reads events by age, and finds an event's deliveries without knowing their destination.
CREATE INDEX IF NOT EXISTS events_received ON events (received_at);
CREATE INDEX IF NOT EXISTS deliveries_event ON deliveries (site, event_id);
CREATE TABLE IF NOT EXISTS destination_log (
  destination TEXT PRIMARY KEY, last_error TEXT, last_error_at INTEGER, last_delivered_at INTEGER
);
-- A pruned event's delivered rows go with it (the queue keeps no row without its event).
CREATE TRIGGER IF NOT EXISTS events_pruned AFTER DELETE ON events BEGIN
  DELETE FROM deliveries WHERE site = old.site AND event_id = old.id;
END;
`;

/**
 * Version 3: deliveries reference their event by the event's integer row id (`events.seq`) instead of
 * its (site, id) text. Each queued delivery then writes integer keys only: its unique
 * (event, destination) index also serves an event's deliveries (the `(site, event_id)` index goes),
 * and the events table's row id makes its (site, id) key a plain unique index. Measured on the
 * bench's rows this takes about a third off the store's CPU per event (docs/relay-throughput.md).
 * Rows are copied in one transaction; a delivery whose event is gone (never sent) is not kept.
 */
const SCHEMA_V3 = `
CREATE TABLE events_v3 (
  seq INTEGER PRIMARY KEY,
  site TEXT NOT NULL, id TEXT NOT NULL, received_at INTEGER NOT NULL, data TEXT NOT NULL,
  UNIQUE (site, id)
);
INSERT INTO events_v3 (site, id, received_at, data)
  SELECT site, id, received_at, data FROM events ORDER BY received_at;
CREATE TABLE deliveries_v3 (
  id INTEGER PRIMARY KEY,
  destination TEXT NOT NULL, event INTEGER NOT NULL,
  status TEXT NOT NULL DEFAULT 'queued', attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL, lease_until INTEGER NOT NULL DEFAULT 0,
  last_error TEXT, updated_at INTEGER NOT NULL, ip TEXT,
  UNIQUE (event, destination)
);
INSERT INTO deliveries_v3
  (id, destination, event, status, attempts, next_at, lease_until, last_error, updated_at, ip)
  SELECT d.id, d.destination, e.seq, d.status, d.attempts, d.next_at, d.lease_until,
    d.last_error, d.updated_at, d.ip
  FROM deliveries d JOIN events_v3 e ON e.site = d.site AND e.id = d.event_id;
DROP TRIGGER IF EXISTS events_pruned;
DROP TABLE deliveries;
DROP TABLE events;
ALTER TABLE events_v3 RENAME TO events;
ALTER TABLE deliveries_v3 RENAME TO deliveries;
CREATE INDEX deliveries_queued ON deliveries (destination, next_at) WHERE status = 'queued';
CREATE INDEX events_received ON events (received_at);
-- A pruned event's delivered rows go with it (the queue keeps no row without its event).
CREATE TRIGGER events_pruned AFTER DELETE ON events BEGIN
  DELETE FROM deliveries WHERE event = old.seq;
END;
`;

/** One schema change: SQL, or a step that needs to look first. */
interface Migration {
  version: number;
  name: string;
  up: string | ((db: Database.Database) => void);
}

/**
 * Schema changes, applied in order on open, each in the transaction that records its version in
 * `PRAGMA user_version`; never edit a released one, append a new version (as postgres.ts does).
 */
export const SQLITE_MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'events, delivery queue, visitor state, refused events, suppressed ids, destination log',
    up: SCHEMA_V1,
  },
  {
    version: 2,
    name: 'the full client IP kept with queued deliveries only (storeIp)',
    // A file made before versions may have the column already (it was added unversioned).
    up: (db) => {
      if (!db.prepare("SELECT 1 FROM pragma_table_info('deliveries') WHERE name = 'ip'").get())
        db.exec('ALTER TABLE deliveries ADD COLUMN ip TEXT');
    },
  },
  {
    version: 3,
    name: 'deliveries reference their event by its integer row id',
    up: SCHEMA_V3,
  },
];

/** The newest schema version this relay knows. */
export const SQLITE_SCHEMA_VERSION = SQLITE_MIGRATIONS[SQLITE_MIGRATIONS.length - 1].version;

/**
 * Applies the migrations the file lacks. The version is read inside an IMMEDIATE transaction, so
 * two processes opening one file at once migrate it one after the other.
 */
export const migrateSqlite = (db: Database.Database): void => {
  const apply = db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    for (const m of SQLITE_MIGRATIONS) {
      if (m.version <= current) continue;
      if (typeof m.up == 'string') db.exec(m.up);
      else m.up(db);
      db.pragma(`user_version = ${m.version}`);
    }
  });
  apply.immediate();
};

/** The statements of the hot paths (ingest, lease, settle), prepared once. */
const statements = (db: Database.Database) => {
  const insertEvent = db.prepare(
    'INSERT OR IGNORE INTO events (site, id, received_at, data) VALUES (?, ?, ?, ?)',
  );
  const insertDelivery = db.prepare(
    'INSERT OR IGNORE INTO deliveries (destination, event, ' +
      'next_at, updated_at, ip, lease_until) VALUES (?, ?, ?, ?, ?, ?)',
  );
  // In the order of deliveries_queued (whose entries end with the row id): the first due rows are read
  // and the scan stops at the limit, however long the queue (ORDER BY id alone sorted all of it).
  const selectDue = db.prepare(
    `SELECT ${DELIVERY_COLUMNS}
     FROM deliveries d JOIN events e ON e.seq = d.event
     WHERE d.destination = ? AND d.status = 'queued' AND d.next_at <= ? AND d.lease_until <= ?
     ORDER BY d.next_at, d.id LIMIT ?`,
  );
  // Statements over a set of delivery ids take the ids as one JSON array: one statement, not one per row.
  const IDS = 'id IN (SELECT value FROM json_each(?))';
  const setLease = db.prepare(`UPDATE deliveries SET lease_until = ? WHERE ${IDS}`);
  const delivered = db.prepare(
    `UPDATE deliveries SET status = 'delivered', lease_until = 0, ip = NULL, updated_at = ? WHERE ${IDS}`,
  );
  const release = db.prepare(`UPDATE deliveries SET lease_until = 0 WHERE ${IDS}`);
  const retry = db.prepare(
    `UPDATE deliveries SET attempts = attempts + 1, next_at = ?, ` +
      `lease_until = 0, last_error = ?, updated_at = ? WHERE ${IDS}`,
  );
  const dead = db.prepare(
    `UPDATE deliveries SET status = 'dead', attempts = attempts + 1, ` +
      `lease_until = 0, ip = NULL, last_error = ?, updated_at = ? WHERE ${IDS}`,
  );
  const destinationsOf = db
    .prepare(`SELECT DISTINCT destination FROM deliveries WHERE ${IDS}`)
    .pluck();
  const logError = db.prepare(
    `INSERT INTO destination_log (destination, last_error, last_error_at) VALUES (?, ?, ?)
     ON CONFLICT (destination) DO UPDATE SET last_error = excluded.last_error, last_error_at = excluded.last_error_at`,
  );
  const logDelivered = db.prepare(
    `INSERT INTO destination_log (destination, last_delivered_at) VALUES (?, ?)
     ON CONFLICT (destination) DO UPDATE SET last_delivered_at = excluded.last_delivered_at`,
  );
  return {
    insertEvent,
    insertDelivery,
    selectDue,
    setLease,
    delivered,
    release,
    retry,
    dead,
    destinationsOf,
    logError,
    logDelivered,
  };
};

/** Bodies stored before the checkpoint thread (checkpoint.ts) starts. */
export const CHECKPOINT_THREAD_AFTER = 64;

/** The most writes (bodies, settles) one group commit's transaction holds. */
export const GROUP_MAX = 32;

/**
 * Group commit: the bodies that arrive in the same turn of the event loop, and the deliveries
 * settled as sent in it, are written in one transaction (a commit costs more than the rows of a
 * typical body). Each caller still gets its own result, in arrival order: each write runs in a
 * savepoint of its own, so one that fails is undone alone; a failed commit fails every caller of
 * the group, none half-stored.
 */
export const groupCommit = (db: Database.Database) => {
  type Pending = {
    write: () => unknown;
    resolve: (r: never) => void;
    reject: (e: unknown) => void;
  };
  let pending: Pending[] = [];
  const alone = db.transaction((write: () => unknown) => write());
  const inTransaction = db.transaction((group: Pending[]) =>
    group.map((p) => {
      try {
        return { value: alone(p.write) };
      } catch (error) {
        return { error };
      }
    }),
  );
  // Each write's savepoint keeps the pages it changes until the commit, to undo that write alone. By
  // default past 64 KiB (a body or two) they go to a temporary file, opened, written and deleted in
  // every group: kept in memory instead for the group's transaction, which GROUP_MAX bounds. The
  // rest of the connection (admin reads that sort large tables) keeps SQLite's default.
  const memory = db.prepare('PRAGMA temp_store = MEMORY');
  const fallback = db.prepare('PRAGMA temp_store = DEFAULT');
  const writeGroup = (group: Pending[]) => {
    memory.run();
    try {
      return inTransaction(group);
    } finally {
      fallback.run();
    }
  };
  const commitPending = () => {
    // At most GROUP_MAX writes per transaction: the rest follow in a later turn, so a burst of
    // bodies never holds the event loop (and every request queued behind it) for one long commit.
    const group = pending.slice(0, GROUP_MAX);
    pending = pending.slice(GROUP_MAX);
    if (pending.length) setImmediate(commitPending);
    if (!group.length) return;
    let results: ({ value: unknown } | { error: unknown })[];
    try {
      results = writeGroup(group);
    } catch (error) {
      for (const p of group) p.reject(error);
      return;
    }
    group.forEach((p, i) => {
      const result = results[i];
      if ('error' in result) p.reject(result.error);
      else p.resolve(result.value as never);
    });
  };
  /** Runs `write` in the next group commit. */
  const grouped = <T>(write: () => T) =>
    new Promise<T>((resolve, reject) => {
      if (!pending.length) setImmediate(commitPending);
      pending.push({ write, resolve: resolve as (r: never) => void, reject });
    });
  return { grouped, commitPending, pendingWrites: () => pending.length };
};

/** Retention: one bounded DELETE per call, so a large backlog is pruned in small steps between requests. */
const pruneStatements = (db: Database.Database): Record<PruneKind, Database.Statement> => ({
  events: db.prepare(
    `DELETE FROM events WHERE seq IN (
       SELECT seq FROM events e WHERE received_at < ? AND NOT EXISTS (
         SELECT 1 FROM deliveries d WHERE d.event = e.seq AND d.status != 'delivered')
       ORDER BY received_at LIMIT ?)`,
  ),
  delivered: db.prepare(
    `DELETE FROM deliveries WHERE id IN (SELECT id FROM deliveries ` +
      `WHERE status = 'delivered' AND updated_at < ? LIMIT ?)`,
  ),
  deadLetters: db.prepare(
    `DELETE FROM deliveries WHERE id IN (SELECT id FROM deliveries WHERE status = 'dead' AND updated_at < ? LIMIT ?)`,
  ),
  visitorState: db.prepare(
    'DELETE FROM visitor_state WHERE (destination, visitor) IN (SELECT ' +
      'destination, visitor FROM visitor_state WHERE updated_at < ? LIMIT ?)',
  ),
  rejected: db.prepare(
    'DELETE FROM rejected_events WHERE id IN (SELECT id FROM ' +
      'rejected_events WHERE received_at < ? ORDER BY id LIMIT ?)',
  ),
});

/**
 * Deletes a visitor's rows (and, by user id, those of every anonymous id it was seen with) and
 * suppresses their ids.
 */
const eraser = (db: Database.Database) =>
  db.transaction((who: { anonymousId?: string; userId?: string }, now: number): Erased => {
    const anonymousIds = new Set<string>(who.anonymousId ? [who.anonymousId] : []);
    if (who.userId)
      for (const id of db
        .prepare(
          `SELECT DISTINCT json_extract(data, '$.event.anonymousId') ` +
            `FROM events WHERE json_extract(data, '$.event.userId') = ?`,
        )
        .pluck()
        .all(who.userId) as string[])
        anonymousIds.add(id);
    const ids = JSON.stringify([...anonymousIds]);
    const match =
      `(json_extract(data, '$.event.anonymousId') IN (SELECT value ` +
      `FROM json_each(?)) OR json_extract(data, '$.event.userId') = ?)`;
    const deliveries = db
      .prepare(`DELETE FROM deliveries WHERE event IN (SELECT seq FROM events WHERE ${match})`)
      .run(ids, who.userId ?? null).changes;
    const events = db
      .prepare(`DELETE FROM events WHERE ${match}`)
      .run(ids, who.userId ?? null).changes;
    const visitorState = db
      .prepare('DELETE FROM visitor_state WHERE visitor IN (SELECT value FROM json_each(?))')
      .run(ids).changes;
    // Refused events keep their raw text: any that names one of the ids goes.
    const names = [...anonymousIds, ...(who.userId ? [who.userId] : [])];
    const rejected = names.reduce(
      (n, name) =>
        n +
        db.prepare('DELETE FROM rejected_events WHERE instr(raw, ?) > 0').run(JSON.stringify(name))
          .changes,
      0,
    );
    const suppress = db.prepare(
      'INSERT OR IGNORE INTO suppressed (kind, value, created_at) VALUES (?, ?, ?)',
    );
    for (const id of anonymousIds) suppress.run('anonymousId', id, now);
    if (who.userId) suppress.run('userId', who.userId, now);
    return {
      events,
      deliveries,
      visitorState,
      rejected,
      suppressed: { anonymousIds: [...anonymousIds], userIds: who.userId ? [who.userId] : [] },
    };
  });

type InsertResult = { inserted: StoredEvent[]; duplicates: number; leased?: Delivery[] };

/** Opens (creating if needed) a SQLite store at `path`; `:memory:` for a throwaway one. */
export function openSqliteStore(path = ':memory:'): Store {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode survives a killed process; only a power cut can lose the last commits.
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  migrateSqlite(db);

  const {
    insertEvent,
    insertDelivery,
    selectDue,
    setLease,
    delivered,
    release,
    retry,
    dead,
    destinationsOf,
    logError,
    logDelivered,
  } = statements(db);

  const insertOne = (
    events: StoredEvent[],
    route: (stored: StoredEvent) => string[],
    leaseUntil: number,
  ) => {
    const inserted: StoredEvent[] = [];
    const leased: Delivery[] = [];
    for (const stored of events) {
      const { sendIp, ...kept } = stored;
      const { changes, lastInsertRowid: seq } = insertEvent.run(
        stored.site,
        stored.event.id,
        stored.receivedAt,
        storedJson(stored),
      );
      if (!changes) continue;
      inserted.push(stored);
      // What a lease would read back: the stored event, with the full IP that rides with the queue.
      const sent = sendIp ? { ...kept, ip: sendIp } : kept;
      for (const destination of route(stored)) {
        const queued = insertDelivery.run(
          destination,
          seq,
          stored.receivedAt,
          stored.receivedAt,
          sendIp ?? null,
          leaseUntil,
        );
        if (leaseUntil && queued.changes)
          leased.push({
            id: Number(queued.lastInsertRowid),
            destination,
            attempts: 0,
            status: 'queued',
            updatedAt: stored.receivedAt,
            stored: sent,
          });
      }
    }
    return {
      inserted,
      duplicates: events.length - inserted.length,
      ...(leaseUntil ? { leased } : {}),
    };
  };

  const { grouped, commitPending, pendingWrites } = groupCommit(db);
  // Checkpoints leave the event loop once the file sees steady writes (a few bodies do not start a thread).
  const checkpoints = checkpointer(db, path);
  let bodies = 0;
  const steady = () => {
    if (++bodies == CHECKPOINT_THREAD_AFTER) checkpoints.start();
  };
  const enqueueOne = db.prepare(
    'INSERT OR IGNORE INTO deliveries (destination, event, next_at, updated_at) ' +
      'SELECT ?, seq, ?, ? FROM events WHERE site = ? AND id = ?',
  );

  const leaseDue = db.transaction(
    (destination: string, limit: number, now: number, leaseUntil: number) => {
      const rows = selectDue.all(destination, now, now, limit) as DeliveryRow[];
      if (rows.length) setLease.run(leaseUntil, JSON.stringify(rows.map((row) => row.id)));
      return rows.map(toDelivery);
    },
  );

  /** Runs `update` over the ids and logs the outcome once per destination they belong to. */
  const settle = db.transaction(
    (ids: number[], update: (json: string) => void, log: (destination: string) => void) => {
      if (!ids.length) return;
      const json = JSON.stringify(ids);
      for (const destination of destinationsOf.all(json) as string[]) log(destination);
      update(json);
    },
  );

  const insertRejectedRow = db.prepare(
    'INSERT INTO rejected_events (site, received_at, idx, field, reason, raw, ip) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const insertRejectedAll = db.transaction((rows: RejectedEvent[]) => {
    for (const r of rows)
      insertRejectedRow.run(
        r.site,
        r.receivedAt,
        r.index,
        r.field,
        r.reason,
        r.raw.slice(0, REJECTED_RAW_MAX),
        r.ip ?? null,
      );
  });

  const prune = pruneStatements(db);

  const erase = eraser(db);

  return {
    insertEvents(events, route, options) {
      steady();
      return grouped<InsertResult>(() => insertOne(events, route, options?.leaseUntil ?? 0));
    },
    async enqueue(destination, events, now) {
      return db.transaction(() =>
        events.reduce((n, e) => n + enqueueOne.run(destination, now, now, e.site, e.id).changes, 0),
      )();
    },
    async lease(destination, limit, now, leaseUntil) {
      return leaseDue(destination, limit, now, leaseUntil);
    },
    async markDelivered(ids, now) {
      // In the group commit of the ingests under way: sends settle as often as bodies arrive.
      if (ids.length)
        await grouped(() =>
          settle(
            ids,
            (json) => delivered.run(now, json),
            (destination) => logDelivered.run(destination, now),
          ),
        );
    },
    async release(ids) {
      if (ids.length) release.run(JSON.stringify(ids));
    },
    async retryAt(ids, at, error, now) {
      settle(
        ids,
        (json) => retry.run(at, error, now, json),
        (destination) => logError.run(destination, error, now),
      );
    },
    async deadLetter(ids, error, now) {
      settle(
        ids,
        (json) => dead.run(error, now, json),
        (destination) => logError.run(destination, error, now),
      );
    },
    async getState(destination, visitor) {
      const row = db
        .prepare('SELECT value FROM visitor_state WHERE destination = ? AND visitor = ?')
        .pluck()
        .get(destination, visitor);
      return row == null ? undefined : JSON.parse(row as string);
    },
    async setState(destination, visitor, value) {
      db.prepare(
        `INSERT INTO visitor_state (destination, visitor, value, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (destination, visitor) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      ).run(destination, visitor, JSON.stringify(value), Date.now());
    },
    async status() {
      const rows = db
        .prepare(
          `SELECT d.destination,
             SUM(d.status = 'queued') AS queued,
             SUM(d.status = 'queued' AND d.attempts > 0) AS retrying,
             SUM(d.status = 'delivered') AS delivered,
             SUM(d.status = 'dead') AS dead
           FROM deliveries d GROUP BY d.destination`,
        )
        .all() as CountRow[];
      return mergeStatus(rows, db.prepare('SELECT * FROM destination_log').all() as LogRow[]);
    },
    async oldestDue() {
      return db
        .prepare(
          "SELECT destination, MIN(next_at) AS at FROM deliveries WHERE status = 'queued' GROUP BY destination",
        )
        .all() as { destination: string; at: number }[];
    },
    async deadLetters(destination, limit = 100) {
      const rows = db
        .prepare(
          `SELECT ${DELIVERY_COLUMNS} FROM deliveries d JOIN events e ON e.seq = d.event
           WHERE d.status = 'dead' AND (? IS NULL OR d.destination = ?) ORDER BY d.id LIMIT ?`,
        )
        .all(destination ?? null, destination ?? null, limit) as DeliveryRow[];
      return rows.map(toDelivery);
    },
    async requeue(destination, ids, now) {
      const sql = `UPDATE deliveries SET status = 'queued', attempts = 0, next_at = ?, lease_until = 0, updated_at = ?
                   WHERE status = 'dead' AND (? IS NULL OR destination = ?)`;
      if (!ids)
        return db.prepare(sql).run(now, now, destination ?? null, destination ?? null).changes;
      const one = db.prepare(sql + ' AND id = ?');
      return db.transaction(() =>
        ids.reduce(
          (n, id) => n + one.run(now, now, destination ?? null, destination ?? null, id).changes,
          0,
        ),
      )();
    },
    async insertRejected(rows) {
      insertRejectedAll(rows);
    },
    async rejected(limit = 100) {
      const rows = db
        .prepare(
          'SELECT * FROM (SELECT * FROM rejected_events ORDER BY id DESC LIMIT ?) ORDER BY id',
        )
        .all(limit) as RejectedRow[];
      return rows.map(toRejected);
    },
    async countRejected() {
      return db.prepare('SELECT COUNT(*) FROM rejected_events').pluck().get() as number;
    },
    async prune(kind, before, limit) {
      return prune[kind].run(before, limit).changes;
    },
    async erase(who, now) {
      return erase(who, now);
    },
    async suppressed() {
      return toSuppressed(
        db.prepare('SELECT kind, value FROM suppressed').all() as { kind: string; value: string }[],
      );
    },
    async ping() {
      db.prepare('SELECT 1').get();
    },
    async events(limit = 1000) {
      const rows = db
        .prepare(
          // `seq` breaks ties: events received in the same millisecond keep the order they were stored.
          'SELECT data FROM (SELECT data, received_at, seq FROM events ' +
            'ORDER BY received_at DESC, seq DESC LIMIT ?) ORDER BY received_at, seq',
        )
        .pluck()
        .all(limit) as string[];
      return rows.map((row) => JSON.parse(row));
    },
    async countEvents() {
      return db.prepare('SELECT COUNT(*) FROM events').pluck().get() as number;
    },
    async close() {
      await checkpoints.close();
      while (pendingWrites()) commitPending();
      if (db.open) db.close();
    },
  };
}
