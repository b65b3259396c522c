/**
 * PostgreSQL schema version 7: a version-6 database opens and keeps its rows, its keys compare
 * bytewise ("C" collation) and the queue's pages keep room for settled rows. Deliveries of new events
 * are inserted without ON CONFLICT; a delivery already there (left by hand) is kept, not an error.
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

describe.runIf(postgresAvailable())('PostgreSQL schema version 7', () => {
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
    await admin.query('CREATE DATABASE six');
    await admin.end();
    url = server.url.replace(/\/postgres$/, '/six');
    // The schema as a version-6 relay left it: one event queued for one destination and delivered
    // to another, and a delivery whose event is not stored (a row made by hand).
    await sql(
      'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, ' +
        'applied_at TIMESTAMPTZ NOT NULL DEFAULT now())',
    );
    for (const m of MIGRATIONS.filter((m) => m.version <= 6)) {
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
      `INSERT INTO deliveries (destination, site, event_id, next_at, updated_at, status)
       VALUES ('shop/a', 'shop', 'old', 500, 500, 'queued'), ('shop/b', 'shop', 'old', 500, 600, 'delivered'),
         ('shop/a', 'shop', 'ghost', 500, 500, 'queued')`,
    );
  });
  afterAll(() => server?.destroy());

  it('opens a version-6 database: same rows, keys in the "C" collation, fillfactor on deliveries', async () => {
    const store = await openPostgresStore(url, { poolSize: 2 });
    try {
      const versions = await sql('SELECT max(version) AS v FROM schema_migrations');
      expect(versions[0].v).toBe(7);
      const collations = await sql(
        `SELECT table_name || '.' || column_name AS col, collation_name FROM information_schema.columns
         WHERE table_name IN ('events', 'deliveries', 'destination_log')
           AND column_name IN ('site', 'id', 'event_id', 'destination') AND data_type = 'text'
         ORDER BY 1`,
      );
      expect(collations).toEqual(
        [
          'deliveries.destination',
          'deliveries.event_id',
          'deliveries.site',
          'destination_log.destination',
          'events.id',
          'events.site',
        ].map((col) => ({ col, collation_name: 'C' })),
      );
      const options = await sql("SELECT reloptions FROM pg_class WHERE relname = 'deliveries'");
      expect(options[0].reloptions).toEqual(['fillfactor=70']);
      const counts = await store.status();
      expect(counts.map((c) => [c.destination, c.queued, c.delivered])).toEqual([
        ['shop/a', 2, 0],
        ['shop/b', 0, 1],
      ]);
      const leased = await store.lease('shop/a', 10, 1_000, 5_000);
      expect(leased.map((d) => d.stored.event.id)).toEqual(['old']);
    } finally {
      await store.close();
    }
  });

  it('keeps a delivery already there for a new event, and stores the rest of its turn', async () => {
    const store = await openPostgresStore(url, { poolSize: 2 });
    try {
      const route = () => ['shop/a', 'shop/b'];
      const [ghost, other] = await Promise.all([
        store.insertEvents([stored('ghost'), stored('g2')], route, { leaseUntil: 9_000 }),
        store.insertEvents([stored('g3')], route, { leaseUntil: 9_000 }),
      ]);
      expect(ghost.inserted.map((s) => s.event.id)).toEqual(['ghost', 'g2']);
      expect(other.inserted.map((s) => s.event.id)).toEqual(['g3']);
      // The hand-made row stays as it was (the first test's lease); only new ones come back leased.
      expect(ghost.leased!.map((d) => `${d.stored.event.id}>${d.destination}`).sort()).toEqual([
        'g2>shop/a',
        'g2>shop/b',
        'ghost>shop/b',
      ]);
      const rows = await sql(
        `SELECT destination, event_id, lease_until::int AS lease FROM deliveries
         WHERE event_id IN ('ghost', 'g2', 'g3') ORDER BY event_id, destination`,
      );
      expect(rows.map((r) => `${r.event_id}>${r.destination}@${r.lease}`)).toEqual([
        'g2>shop/a@9000',
        'g2>shop/b@9000',
        'g3>shop/a@9000',
        'g3>shop/b@9000',
        'ghost>shop/a@5000',
        'ghost>shop/b@9000',
      ]);
    } finally {
      await store.close();
    }
  });

  it('queues a destination for stored events only', async () => {
    const store = await openPostgresStore(url, { poolSize: 2 });
    try {
      const events = [
        { site: 'shop', id: 'old' },
        { site: 'shop', id: 'never-stored' },
      ];
      expect(await store.enqueue('shop/c', events, 2_000)).toBe(1);
      const rows = await sql("SELECT event_id FROM deliveries WHERE destination = 'shop/c'");
      expect(rows).toEqual([{ event_id: 'old' }]);
    } finally {
      await store.close();
    }
  });
});
