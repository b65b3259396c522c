/**
 * PostgreSQL schema versions: a database made by an older relay (version 4) opens, keeps its
 * events and queue, and its deliveries stay unique per (event, destination) under one index.
 * Settles of one turn share one statement and still record each destination's newest delivery.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS, openPostgresStore } from '../../src/relay/postgres';
import type { StoredEvent } from '../../src/relay/store';
import { postgresAvailable, startPostgres, type PostgresServer } from './postgres-server';

const stored = (id: string): StoredEvent => ({
  site: 'shop',
  receivedAt: 1_000,
  time: 1_000,
  skewMs: 0,
  bot: false,
  event: { type: 'event', name: 'x', id, anonymousId: 'a1' } as StoredEvent['event'],
});

describe.runIf(postgresAvailable())('PostgreSQL migrations', () => {
  let server: PostgresServer;
  let url: string;
  const sql = async (text: string, values: unknown[] = []) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(text, values)).rows;
    } finally {
      await client.end();
    }
  };
  beforeAll(async () => {
    server = await startPostgres();
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query('CREATE DATABASE migrated');
    await admin.end();
    url = server.url.replace(/\/postgres$/, '/migrated');
    // The schema as a version-4 relay left it, with an event queued for two destinations.
    await sql(
      'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, ' +
        'applied_at TIMESTAMPTZ NOT NULL DEFAULT now())',
    );
    for (const m of MIGRATIONS.filter((m) => m.version <= 4)) {
      await sql(m.sql);
      await sql('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        m.version,
        m.name,
      ]);
    }
    await sql(
      `INSERT INTO events (site, id, received_at, data) VALUES ('shop', 'old', 500, $1::json)`,
      [JSON.stringify(stored('old'))],
    );
    await sql(
      `INSERT INTO deliveries (destination, site, event_id, next_at, updated_at)
       VALUES ('shop/a', 'shop', 'old', 500, 500), ('shop/b', 'shop', 'old', 500, 500)`,
    );
  });
  afterAll(() => server?.destroy());

  it('opens a version-4 database: same rows, one unique index per (event, destination)', async () => {
    const store = await openPostgresStore(url, { poolSize: 2 });
    try {
      const versions = await sql('SELECT version FROM schema_migrations ORDER BY version');
      expect(versions.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
      const indexes = (await sql("SELECT indexname FROM pg_indexes WHERE tablename = 'deliveries'"))
        .map((r) => r.indexname)
        .sort();
      expect(indexes).toEqual([
        'deliveries_dead',
        'deliveries_event_destination',
        'deliveries_pkey',
        'deliveries_queued',
      ]);
      // Still one delivery per event and destination: queuing it again is ignored.
      expect(await store.enqueue('shop/a', [{ site: 'shop', id: 'old' }], 600)).toBe(0);
      expect(await store.enqueue('shop/c', [{ site: 'shop', id: 'old' }], 600)).toBe(1);
      const leased = await store.lease('shop/a', 10, 1_000, 5_000);
      expect(leased.map((d) => d.stored.event.id)).toEqual(['old']);
    } finally {
      await store.close();
    }
  });

  it('settles of one turn share one transaction, each destination logged', async () => {
    const store = await openPostgresStore(url, { poolSize: 2 });
    try {
      const route = () => ['shop/x', 'shop/y'];
      const { leased } = await store.insertEvents([stored('s1'), stored('s2')], route, {
        leaseUntil: 9_000,
      });
      const of = (destination: string) =>
        leased!.filter((d) => d.destination == destination).map((d) => d.id);
      await Promise.all([
        store.markDelivered(of('shop/x'), 2_000),
        store.markDelivered(of('shop/y'), 2_500),
      ]);
      const rows = await sql(
        "SELECT DISTINCT xmin::text AS tx FROM deliveries WHERE destination IN ('shop/x', 'shop/y')",
      );
      expect(rows).toHaveLength(1);
      const counts = await store.status();
      const x = counts.find((c) => c.destination == 'shop/x')!;
      const y = counts.find((c) => c.destination == 'shop/y')!;
      expect([x.delivered, x.queued, x.lastDeliveredAt]).toEqual([2, 0, 2_000]);
      expect([y.delivered, y.queued, y.lastDeliveredAt]).toEqual([2, 0, 2_500]);
      const times = await sql(
        "SELECT DISTINCT updated_at::int AS at FROM deliveries WHERE destination = 'shop/y'",
      );
      expect(times).toEqual([{ at: 2_500 }]);
    } finally {
      await store.close();
    }
  });
});
