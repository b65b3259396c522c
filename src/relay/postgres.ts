/**
 * The scale-out store: several relay processes share one PostgreSQL. Events are deduplicated by a
 * unique (site, id), so the same batch reaching two processes is stored once; the delivery queue
 * hands work out with `FOR UPDATE SKIP LOCKED` and a lease, so N processes split it and a crashed
 * process's leased work is taken over when its lease runs out (see docs/scaling-out.md).
 *
 * `pg` is an optional peer dependency: it is imported only when a postgres:// store is configured.
 */
import type { Pool, PoolClient, QueryResultRow } from 'pg';
import {
  REJECTED_RAW_MAX,
  type Delivery,
  type PruneKind,
  type Store,
  type StoredEvent,
} from './store';
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

/** Schema changes, applied in order on start; never edit a released one, append a new version. */
export const MIGRATIONS: { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'events, delivery queue, visitor state, destination log',
    sql: `
CREATE TABLE events (
  seq BIGINT GENERATED ALWAYS AS IDENTITY,
  site TEXT NOT NULL, id TEXT NOT NULL, received_at BIGINT NOT NULL, data JSON NOT NULL,
  PRIMARY KEY (site, id)
);
CREATE INDEX events_seq ON events (seq);
CREATE TABLE deliveries (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  destination TEXT NOT NULL, site TEXT NOT NULL, event_id TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'queued', attempts INTEGER NOT NULL DEFAULT 0,
  next_at BIGINT NOT NULL, lease_until BIGINT NOT NULL DEFAULT 0,
  last_error TEXT, updated_at BIGINT NOT NULL,
  UNIQUE (destination, site, event_id)
);
-- The queue's hot path: due work of one destination, oldest first. Delivered rows drop out of it.
CREATE INDEX deliveries_queued ON deliveries (destination, id) WHERE status = 'queued';
CREATE INDEX deliveries_dead ON deliveries (destination, id) WHERE status = 'dead';
CREATE TABLE visitor_state (
  destination TEXT NOT NULL, visitor TEXT NOT NULL, value JSON NOT NULL, updated_at BIGINT NOT NULL,
  PRIMARY KEY (destination, visitor)
);
CREATE TABLE destination_log (
  destination TEXT PRIMARY KEY, last_error TEXT, last_error_at BIGINT, last_delivered_at BIGINT
);`,
  },
  {
    version: 2,
    name: 'events refused at ingest',
    sql: `
CREATE TABLE rejected_events (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  site TEXT NOT NULL, received_at BIGINT NOT NULL, idx INTEGER NOT NULL,
  field TEXT NOT NULL, reason TEXT NOT NULL, raw TEXT NOT NULL, ip TEXT
);`,
  },
  {
    version: 3,
    name: 'retention and erasure: suppressed ids, events by age, deliveries by event',
    sql:
      `
CREATE TABLE suppressed (kind TEXT NOT NULL, value TEXT NOT NULL, created_at BIGINT NOT NULL, ` +
      `PRIMARY KEY (kind, value));
CREATE INDEX events_received ON events (received_at);
CREATE INDEX deliveries_event ON deliveries (site, event_id);`,
  },
  {
    version: 4,
    name: 'the full client IP kept with queued deliveries only (storeIp)',
    sql: `ALTER TABLE deliveries ADD COLUMN ip TEXT;`,
  },
  {
    version: 5,
    name: 'one index for a delivery by event and destination',
    // The unique (destination, site, event_id) and the (site, event_id) index become one unique
    // (site, event_id, destination): one index fewer to write for each delivery queued and settled.
    sql: `
CREATE UNIQUE INDEX deliveries_event_destination ON deliveries (site, event_id, destination);
ALTER TABLE deliveries DROP CONSTRAINT IF EXISTS deliveries_destination_site_event_id_key;
DROP INDEX IF EXISTS deliveries_event;`,
  },
  {
    version: 6,
    name: 'no index on the events by insertion order',
    // Only the admin's newest-events list read it: that list now reads events_received (by time,
    // insertion order among equal times), and each event stored writes one index entry fewer.
    sql: `DROP INDEX IF EXISTS events_seq;`,
  },
  {
    version: 7,
    name: 'keys compared bytewise; room on the queue pages for settled rows',
    // Ids, sites and destination names are compared in their indexes for every event queued and
    // settled: with the "C" collation a comparison is a memcmp instead of the database locale's
    // strcoll (no ORDER BY of these columns is shown to anyone). The indexes on them are rebuilt
    // once, the rows are not rewritten. A fillfactor leaves room on each deliveries page, so a
    // settled row's new version mostly stays on its page (one page written, a smaller WAL record).
    sql: `
ALTER TABLE events ALTER COLUMN site TYPE TEXT COLLATE "C", ALTER COLUMN id TYPE TEXT COLLATE "C";
ALTER TABLE deliveries ALTER COLUMN destination TYPE TEXT COLLATE "C",
  ALTER COLUMN site TYPE TEXT COLLATE "C", ALTER COLUMN event_id TYPE TEXT COLLATE "C";
ALTER TABLE deliveries SET (fillfactor = 70);
ALTER TABLE destination_log ALTER COLUMN destination TYPE TEXT COLLATE "C";`,
  },
];

/** Held while one relay prunes: the others skip that round instead of deleting the same rows. */
const RETENTION_LOCK = 0x7472_6b72;

/** One bounded DELETE per kind; $1 the cut-off (epoch ms), $2 the most rows. */
const PRUNE: Record<PruneKind, string> = {
  // The pruned events' delivered rows go with them; the statement answers how many events went.
  events: `WITH gone AS (
             DELETE FROM events WHERE (site, id) IN (
               SELECT site, id FROM events e WHERE received_at < $1 AND NOT EXISTS (
                 SELECT 1 FROM deliveries d WHERE d.site = e.site AND d.event_id = e.id AND d.status != 'delivered')
               ORDER BY received_at LIMIT $2)
             RETURNING site, id),
           cascade AS (DELETE FROM deliveries d USING gone WHERE d.site = gone.site AND d.event_id = gone.id)
           SELECT count(*)::int AS n FROM gone`,
  delivered:
    `DELETE FROM deliveries WHERE id IN (SELECT id FROM deliveries ` +
    `WHERE status = 'delivered' AND updated_at < $1 LIMIT $2)`,
  deadLetters:
    `DELETE FROM deliveries WHERE id IN (SELECT id FROM deliveries ` +
    `WHERE status = 'dead' AND updated_at < $1 LIMIT $2)`,
  visitorState:
    `DELETE FROM visitor_state WHERE (destination, visitor) IN (SELECT ` +
    `destination, visitor FROM visitor_state WHERE updated_at < $1 LIMIT $2)`,
  rejected:
    `DELETE FROM rejected_events WHERE id IN (SELECT id FROM ` +
    `rejected_events WHERE received_at < $1 ORDER BY id LIMIT $2)`,
};

/** Any fixed number: processes starting together queue on it, so one migrates and the others see the result. */
const MIGRATION_LOCK = 0x7472_6b6c;

/** One caller's part of a grouped insert: its events, their routes, and the lease of its deliveries. */
interface InsertCall {
  events: StoredEvent[];
  route: (stored: StoredEvent) => string[];
  leaseUntil: number;
}

type InsertResult = { inserted: StoredEvent[]; duplicates: number; leased?: Delivery[] };

/**
 * A key for (site, id) that no two different pairs share, as the database keeps them: its text is
 * UTF-8, where an unpaired surrogate becomes U+FFFD, so a row read back names the event sent.
 */
const keyOf = (site: string, id: string) =>
  `${site.length}:${site}${id.replace(/\p{Cs}/gu, '\uFFFD')}`;

/**
 * Events and their deliveries in one statement (one round trip, atomic): deliveries are queued only
 * for rows this statement inserted; a concurrent insert of the same key waits for the other to
 * commit, then skips. Deliveries queued with a lease (this process's worker sends them from
 * memory) come back too. Each event's columns are sent once: a delivery names its event by its
 * place in the group (`n`) and takes its site, id, time, IP and lease from it.
 *
 * An event this statement inserted has no delivery yet (`enqueue` queues stored events only;
 * retention and erasure delete an event's deliveries with it), and its destinations are distinct
 * (`insertParameters`), so the deliveries are inserted without `ON CONFLICT`: a speculative
 * insertion probes the unique index once more and writes one more WAL record per row. Should a
 * delivery exist anyway (a row left by hand), the unique index refuses the statement and the group
 * is written again with `onConflict`, which keeps the existing row.
 */
const insertEventsSql = (onConflict: string) =>
  `WITH e AS (
           SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::bigint[])
             WITH ORDINALITY AS e(site, id, at, ip, lease, n)
         ), ins AS (
           INSERT INTO events (site, id, received_at, data)
           SELECT e.site, e.id, e.at, d.value
           FROM e JOIN json_array_elements($6::json) WITH ORDINALITY AS d(value, n) USING (n)
           ON CONFLICT DO NOTHING RETURNING site, id
         ), queued AS (
           INSERT INTO deliveries (destination, site, event_id, next_at, updated_at, ip, lease_until)
           SELECT q.destination, e.site, e.id, e.at, e.at, e.ip, e.lease
           FROM unnest($7::int[], $8::text[]) AS q(n, destination)
           JOIN e USING (n) JOIN ins ON ins.site = e.site AND ins.id = e.id${onConflict}
           RETURNING id, destination, site, event_id, lease_until
         )
         SELECT site, id, NULL::bigint AS delivery, NULL::text AS destination FROM ins
         UNION ALL
         SELECT site, event_id, id, destination FROM queued WHERE lease_until > 0`;

/**
 * A JSON escape PostgreSQL cannot turn into text: a NUL, or a surrogate (JSON.stringify escapes only
 * unpaired ones). Reading any field of a row as text (`->>`, as erasure does) fails on such a string
 * anywhere in it, so the tracker's cut of a long string through an emoji broke every erasure.
 */
const UNTEXTABLE = /\\u0000|\\ud[89a-f]/;

/** A value with each string and key made text PostgreSQL can hold: NUL and unpaired surrogates as U+FFFD. */
const textable = (value: unknown): unknown => {
  if (typeof value == 'string') return value.replace(/\0|\p{Cs}/gu, '\uFFFD');
  if (Array.isArray(value)) return value.map(textable);
  if (!value || typeof value != 'object') return value;
  // Events passed the ingest bounds (8 levels): recursion is safe. fromEntries keeps a `__proto__` key as data.
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [textable(key), textable(item)]),
  );
};

/** The stored row's JSON, with what PostgreSQL cannot read as text replaced (rarely: tested on the text first). */
const rowJson = (stored: StoredEvent) => {
  const text = storedJson(stored);
  return UNTEXTABLE.test(text)
    ? storedJson({ ...stored, event: textable(stored.event) as StoredEvent['event'] })
    : text;
};

/** Prepared once per connection, each. */
const INSERT_EVENTS = { name: 'tracklet-insert-events', text: insertEventsSql('') };
const INSERT_EVENTS_SAFE = {
  name: 'tracklet-insert-events-safe',
  text: insertEventsSql(' ON CONFLICT DO NOTHING'),
};

type InsertStatement = typeof INSERT_EVENTS;

/** The names once each (a route names each destination once; this makes sure without a Set per event). */
const distinct = (names: string[]) =>
  names.some((name, i) => names.indexOf(name) != i) ? [...new Set(names)] : names;

/**
 * The statement's parameters for a group of calls (five columns per event, two per delivery, the
 * events' JSON), and which call owns each (site, id).
 */
const insertParameters = (calls: InsertCall[]) => {
  // The first of several events with one (site, id) wins, as a later arrival would lose.
  const owner = new Map<string, { stored: StoredEvent; call: number }>();
  calls.forEach((call, index) => {
    for (const stored of call.events) {
      const key = keyOf(stored.site, stored.event.id);
      if (!owner.has(key)) owner.set(key, { stored, call: index });
    }
  });
  const columns: unknown[][] = Array.from({ length: 8 }, () => []);
  // The events' JSON as one array (json_array_elements keeps each element's text): serialised in
  // one text and sent without the escaping an array of JSON strings needs; each event's own JSON
  // is made once, for the store and the webhooks (storedJson).
  const data: string[] = [];
  let n = 0;
  for (const { stored, call } of owner.values()) {
    n++;
    columns[0].push(stored.site);
    columns[1].push(stored.event.id);
    columns[2].push(stored.receivedAt);
    columns[3].push(stored.sendIp ?? null);
    columns[4].push(calls[call].leaseUntil);
    data.push(rowJson(stored));
    for (const destination of distinct(calls[call].route(stored))) {
      columns[6].push(n);
      columns[7].push(destination);
    }
  }
  const params: unknown[] = [...columns];
  params[5] = `[${data.join(',')}]`;
  return { owner, columns: params };
};

/** Runs a group of inserts as one statement and gives each call its own result. */
const insertTogether = async (
  query: (statement: InsertStatement, params: unknown[]) => Promise<{ rows: InsertRow[] }>,
  calls: InsertCall[],
  statement: InsertStatement,
): Promise<InsertResult[]> => {
  const { owner, columns } = insertParameters(calls);
  const { rows } = await query(statement, columns);
  const results = calls.map((call) => ({
    inserted: [] as StoredEvent[],
    duplicates: call.events.length,
    ...(call.leaseUntil ? { leased: [] as Delivery[] } : {}),
  }));
  for (const row of rows) {
    const { stored, call } = owner.get(keyOf(row.site, row.id))!;
    const result = results[call];
    if (row.delivery == null) {
      result.inserted.push(stored);
      result.duplicates--;
      continue;
    }
    // What a lease would read back: the stored event, with the full IP that rides with the queue.
    const { sendIp, ...kept } = stored;
    result.leased?.push({
      id: row.delivery,
      destination: row.destination!,
      attempts: 0,
      status: 'queued',
      updatedAt: stored.receivedAt,
      stored: sendIp ? { ...kept, ip: sendIp } : kept,
    });
  }
  // In each caller's order, as one statement per caller returned them.
  for (const [i, result] of results.entries()) {
    const order = new Map(calls[i].events.map((stored, n) => [stored, n]));
    result.inserted.sort((a, b) => order.get(a)! - order.get(b)!);
  }
  return results;
};

/** A row of INSERT_EVENTS: an inserted event (`delivery` null) or a delivery queued leased. */
type InsertRow = { site: string; id: string; delivery: number | null; destination: string | null };

/**
 * The database refused the statement's data (SQLSTATE class 22 data exception, 23 integrity, 54
 * limits: a NUL in a text field, a value too large), or the statement could not be built from it
 * (a value JSON cannot write, a turn too large for one string): a property of some body, not of
 * the connection. Connection errors fail the whole group at once (ingest answers 503).
 */
const refusedData = (error: { code?: string }) =>
  /^(22|23|54)/.test(error?.code ?? '') ||
  error instanceof TypeError ||
  error instanceof RangeError;

/**
 * Group commit: the inserts that arrive in the same turn of the event loop share one statement (one
 * round trip and one commit instead of one each). If the database refuses the group's data, each
 * call is tried alone (with `ON CONFLICT` on its deliveries, see INSERT_EVENTS_SAFE), so one body
 * that it refuses fails only its own caller.
 */
const insertGroups = (
  query: (statement: InsertStatement, params: unknown[]) => Promise<{ rows: InsertRow[] }>,
) => {
  type Pending = InsertCall & { resolve: (r: InsertResult) => void; reject: (e: unknown) => void };
  let pending: Pending[] = [];
  const alone = (p: Pending) =>
    insertTogether(query, [p], INSERT_EVENTS_SAFE).then(([result]) => p.resolve(result), p.reject);
  const flush = () => {
    const group = pending;
    pending = [];
    insertTogether(query, group, INSERT_EVENTS).then(
      (results) => group.forEach((p, i) => p.resolve(results[i])),
      (error: { code?: string }) =>
        refusedData(error) ? group.forEach(alone) : group.forEach((p) => p.reject(error)),
    );
  };
  return (call: InsertCall) =>
    new Promise<InsertResult>((resolve, reject) => {
      if (!pending.length) setImmediate(flush);
      pending.push({ ...call, resolve, reject });
    });
};

/**
 * Marks delivered, with each row's own time, and records the newest delivery per destination
 * (GREATEST keeps it monotonic across processes; destinations in one order, so two relays settling
 * at once never lock the log's rows in opposite orders). Prepared once per connection.
 */
const MARK_DELIVERED = {
  name: 'tracklet-delivered',
  text: `WITH done AS (
           UPDATE deliveries d SET status = 'delivered', lease_until = 0, ip = NULL, updated_at = u.at
           FROM unnest($1::bigint[], $2::bigint[]) AS u(id, at) WHERE d.id = u.id
           RETURNING d.destination, u.at
         )
         INSERT INTO destination_log (destination, last_delivered_at)
         SELECT destination, max(at) FROM done GROUP BY destination ORDER BY destination
         ON CONFLICT (destination) DO UPDATE SET last_delivered_at =
           GREATEST(destination_log.last_delivered_at, excluded.last_delivered_at)`,
};

/**
 * Settles that arrive in one turn of the event loop (batches of several destinations and lanes)
 * share one statement: one round trip and one commit instead of one each. A failure fails every
 * caller of the group; their deliveries stay leased and are sent again when the lease runs out.
 */
const deliveredGroups = (run: (ids: number[], at: number[]) => Promise<unknown>) => {
  type Pending = { ids: number[]; now: number; resolve: () => void; reject: (e: unknown) => void };
  let pending: Pending[] = [];
  const flush = () => {
    const group = pending;
    pending = [];
    const ids: number[] = [];
    const at: number[] = [];
    for (const p of group)
      for (const id of p.ids) {
        ids.push(id);
        at.push(p.now);
      }
    run(ids, at).then(
      () => group.forEach((p) => p.resolve()),
      (error) => group.forEach((p) => p.reject(error)),
    );
  };
  return (ids: number[], now: number) =>
    new Promise<void>((resolve, reject) => {
      if (!pending.length) setImmediate(flush);
      pending.push({ ids, now, resolve, reject });
    });
};

/** Options of `openPostgresStore()`. */
export interface PostgresStoreOptions {
  /** Connections per process (default 10). Mind the server's max_connections across all relays. */
  poolSize?: number;
  /** How long a query waits for a connection before failing (ingest then answers 503). Default 5000 ms. */
  connectTimeoutMs?: number;
  /** Receives connection errors (the pool reconnects by itself). */
  log?: (line: string) => void;
}

/** A `postgres://` or `postgresql://` URL, as opposed to a SQLite file. */
export const isPostgresUrl = (location: string): boolean => /^postgres(ql)?:\/\//i.test(location);

/** Loads `pg` on demand, so SQLite users never need it installed. */
const loadPg = async () => {
  try {
    return (await import('pg')).default;
  } catch (error) {
    throw new Error(
      `the PostgreSQL store needs the "pg" package: run \`npm ` +
        `install pg\` next to tracklet (${(error as Error).message})`,
    );
  }
};

const noNul = (text: string) => text.replace(/\u0000/g, '\uFFFD');

/** Whom to erase, as their ids are stored (rowJson): text holds no NUL, and a parameter with one is refused. */
const asStored = (who: { anonymousId?: string; userId?: string }) => ({
  anonymousId: who.anonymousId == undefined ? undefined : noNul(who.anonymousId),
  userId: who.userId == undefined ? undefined : noNul(who.userId),
});

/** Applies the migrations this database lacks, inside one transaction holding an advisory lock. */
const migrate = async (client: PoolClient) => {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY ' +
        'KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())',
    );
    const { rows } = await client.query('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((r) => r.version));
    for (const m of MIGRATIONS) {
      if (applied.has(m.version)) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        m.version,
        m.name,
      ]);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
};

/**
 * Opens a PostgreSQL store at `url` (`postgres://user:pass@host:5432/db`), applying pending
 * migrations first. Rejects when the database cannot be reached or `pg` is not installed.
 */
export async function openPostgresStore(
  url: string,
  options: PostgresStoreOptions = {},
): Promise<Store> {
  const pg = await loadPg();
  const pool: Pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
    application_name: 'tracklet-relay',
    // BIGINT (epoch ms, queue ids) as numbers: they stay far below 2^53.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid == 20 ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // A connection that dies while idle (database restart, failover) must not crash the process:
  // the pool drops it and opens a new one on the next query.
  pool.on('error', (error) => options.log?.(`postgres: idle connection lost: ${error.message}`));
  let closed = false;
  try {
    const client = await pool.connect();
    try {
      await migrate(client);
    } finally {
      client.release();
    }
  } catch (error) {
    await pool.end().catch(() => {});
    throw error;
  }

  const query = async <Row extends QueryResultRow = QueryResultRow>(
    sql: string,
    params: unknown[] = [],
  ) => pool.query<Row>(sql, params);

  const insertGrouped = insertGroups((statement, params) =>
    pool.query<InsertRow>({ ...statement, values: params }),
  );

  /** Records the last error per destination (the last delivery: MARK_DELIVERED). */
  const logFailed = (updated: string) =>
    `WITH failed AS (${updated} RETURNING destination)
     INSERT INTO destination_log (destination, last_error, last_error_at) SELECT DISTINCT ` +
    `destination, $2::text, $3::bigint FROM failed
     ON CONFLICT (destination) DO UPDATE SET last_error = excluded.last_error, last_error_at = excluded.last_error_at`;

  const deliveredGrouped = deliveredGroups((ids, at) =>
    pool.query({ ...MARK_DELIVERED, values: [ids, at] }),
  );

  return {
    insertEvents(events, route, options) {
      return insertGrouped({ events, route, leaseUntil: options?.leaseUntil ?? 0 });
    },

    async enqueue(destination, events, now) {
      const { rowCount } = await query(
        `INSERT INTO deliveries (destination, site, event_id, next_at, updated_at)
         SELECT $1, e.site, e.id, $4, $4 FROM unnest($2::text[], $3::text[]) AS q(site, id)
         JOIN events e USING (site, id)
         ON CONFLICT DO NOTHING`,
        [destination, events.map((e) => e.site), events.map((e) => e.id), now],
      );
      return rowCount ?? 0;
    },

    async lease(destination, limit, now, leaseUntil) {
      // SKIP LOCKED: processes leasing at the same moment take disjoint rows instead of waiting.
      // The lease itself is the lease_until column, so it outlives this statement's row locks.
      const { rows } = await query<DeliveryRow>(
        `WITH due AS (
           SELECT id FROM deliveries
           WHERE destination = $1 AND status = 'queued' AND next_at <= $2 AND lease_until <= $2
           ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED
         ), leased AS (
           UPDATE deliveries d SET lease_until = $4 FROM due WHERE d.id = due.id RETURNING d.*
         )
         SELECT ${DELIVERY_COLUMNS} FROM leased d JOIN events e ON e.site = d.site AND e.id = d.event_id ORDER BY d.id`,
        [destination, now, limit, leaseUntil],
      );
      return rows.map(toDelivery);
    },

    async markDelivered(ids, now) {
      if (!ids.length) return;
      return deliveredGrouped(ids, now);
    },

    async release(ids) {
      if (!ids.length) return;
      await query('UPDATE deliveries SET lease_until = 0 WHERE id = ANY($1::bigint[])', [ids]);
    },

    async retryAt(ids, at, error, now) {
      if (!ids.length) return;
      await query(
        logFailed(
          `UPDATE deliveries SET attempts = attempts + 1, next_at = $4, lease_until ` +
            `= 0, last_error = $2, updated_at = $3 WHERE id = ANY($1::bigint[])`,
        ),
        [ids, error, now, at],
      );
    },

    async deadLetter(ids, error, now) {
      if (!ids.length) return;
      await query(
        logFailed(
          `UPDATE deliveries SET status = 'dead', attempts = attempts + 1, lease_until ` +
            `= 0, ip = NULL, last_error = $2, updated_at = $3 WHERE id = ANY($1::bigint[])`,
        ),
        [ids, error, now],
      );
    },

    async getState(destination, visitor) {
      const { rows } = await query(
        'SELECT value FROM visitor_state WHERE destination = $1 AND visitor = $2',
        [destination, visitor],
      );
      return rows.length ? rows[0].value : undefined;
    },

    async setState(destination, visitor, value) {
      await query(
        `INSERT INTO visitor_state (destination, visitor, value, updated_at) VALUES ($1, $2, $3::json, $4)
         ON CONFLICT (destination, visitor) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
        [destination, visitor, JSON.stringify(value), Date.now()],
      );
    },

    async status() {
      const { rows } = await query<CountRow>(
        `SELECT destination,
           count(*) FILTER (WHERE status = 'queued')::int AS queued,
           count(*) FILTER (WHERE status = 'queued' AND attempts > 0)::int AS retrying,
           count(*) FILTER (WHERE status = 'delivered')::int AS delivered,
           count(*) FILTER (WHERE status = 'dead')::int AS dead
         FROM deliveries GROUP BY destination`,
      );
      const logs = await query<LogRow>('SELECT * FROM destination_log');
      return mergeStatus(rows, logs.rows);
    },

    async oldestDue() {
      const { rows } = await query(
        "SELECT destination, MIN(next_at) AS at FROM deliveries WHERE status = 'queued' GROUP BY destination",
      );
      return rows.map((r) => ({ destination: r.destination, at: Number(r.at) }));
    },
    async deadLetters(destination, limit = 100) {
      const { rows } = await query<DeliveryRow>(
        `SELECT ${DELIVERY_COLUMNS} FROM deliveries d JOIN events e ON e.site = d.site AND e.id = d.event_id
         WHERE d.status = 'dead' AND ($1::text IS NULL OR d.destination = $1) ORDER BY d.id LIMIT $2`,
        [destination == undefined ? null : noNul(destination), limit],
      );
      return rows.map(toDelivery);
    },

    async requeue(destination, ids, now) {
      const { rowCount } = await query(
        `UPDATE deliveries SET status = 'queued', attempts = 0, next_at = $3, lease_until = 0, updated_at = $3
         WHERE status = 'dead' AND ($1::text IS NULL OR destination = $1) AND ($2::bigint[] IS ` +
          `NULL OR id = ANY($2::bigint[]))`,
        [destination == undefined ? null : noNul(destination), ids ?? null, now],
      );
      return rowCount ?? 0;
    },

    async insertRejected(rejected) {
      if (!rejected.length) return;
      await query(
        `INSERT INTO rejected_events (site, received_at, idx, field, reason, raw, ip)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[])`,
        [
          rejected.map((r) => r.site),
          rejected.map((r) => r.receivedAt),
          rejected.map((r) => r.index),
          // PostgreSQL text cannot hold NUL, and a refused field's name may contain one.
          rejected.map((r) => noNul(r.field)),
          rejected.map((r) => noNul(r.reason)),
          rejected.map((r) => noNul(r.raw.slice(0, REJECTED_RAW_MAX))),
          rejected.map((r) => r.ip ?? null),
        ],
      );
    },

    async rejected(limit = 100) {
      const { rows } = await query<RejectedRow>(
        'SELECT * FROM (SELECT * FROM rejected_events ORDER BY id DESC LIMIT $1) newest ORDER BY id',
        [limit],
      );
      return rows.map(toRejected);
    },

    async countRejected() {
      const { rows } = await query('SELECT count(*)::int AS n FROM rejected_events');
      return rows[0].n;
    },

    async prune(kind, before, limit) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const { rows } = await client.query('SELECT pg_try_advisory_xact_lock($1) AS mine', [
          RETENTION_LOCK,
        ]);
        let count = 0;
        if (rows[0].mine) {
          const result = await client.query(PRUNE[kind], [before, limit]);
          count = kind == 'events' ? result.rows[0].n : (result.rowCount ?? 0);
        }
        await client.query('COMMIT');
        return count;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },

    async erase(asked, now) {
      const who = asStored(asked);
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const anonymousIds = new Set<string>(who.anonymousId ? [who.anonymousId] : []);
        if (who.userId) {
          const { rows } = await client.query(
            `SELECT DISTINCT data->'event'->>'anonymousId' AS id FROM events WHERE data->'event'->>'userId' = $1`,
            [who.userId],
          );
          for (const r of rows) if (r.id) anonymousIds.add(r.id);
        }
        const ids = [...anonymousIds];
        const match = `(data->'event'->>'anonymousId' = ANY($1::text[]) OR data->'event'->>'userId' = $2)`;
        const deliveries =
          (
            await client.query(
              `DELETE FROM deliveries WHERE (site, event_id) IN (SELECT site, id FROM events WHERE ${match})`,
              [ids, who.userId ?? null],
            )
          ).rowCount ?? 0;
        const events =
          (await client.query(`DELETE FROM events WHERE ${match}`, [ids, who.userId ?? null]))
            .rowCount ?? 0;
        const visitorState =
          (await client.query('DELETE FROM visitor_state WHERE visitor = ANY($1::text[])', [ids]))
            .rowCount ?? 0;
        const names = [...ids, ...(who.userId ? [who.userId] : [])].map((name) =>
          JSON.stringify(name),
        );
        const rejected =
          (
            await client.query(
              'DELETE FROM rejected_events WHERE EXISTS (SELECT 1 FROM ' +
                'unnest($1::text[]) n WHERE position(n in raw) > 0)',
              [names],
            )
          ).rowCount ?? 0;
        for (const id of ids)
          await client.query(
            'INSERT INTO suppressed (kind, value, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
            ['anonymousId', id, now],
          );
        if (who.userId)
          await client.query(
            'INSERT INTO suppressed (kind, value, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
            ['userId', who.userId, now],
          );
        await client.query('COMMIT');
        return {
          events,
          deliveries,
          visitorState,
          rejected,
          suppressed: { anonymousIds: ids, userIds: who.userId ? [who.userId] : [] },
        };
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },

    async suppressed() {
      const { rows } = await query<{ kind: string; value: string }>(
        'SELECT kind, value FROM suppressed',
      );
      return toSuppressed(rows);
    },

    async ping() {
      await query('SELECT 1');
    },

    async events(limit = 1000) {
      const { rows } = await query(
        'SELECT data FROM (SELECT data, received_at, seq FROM events ORDER BY received_at DESC, ' +
          'seq DESC LIMIT $1) newest ORDER BY received_at, seq',
        [limit],
      );
      return rows.map((r) => r.data);
    },

    async countEvents() {
      const { rows } = await query('SELECT count(*)::int AS n FROM events');
      return rows[0].n;
    },

    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
