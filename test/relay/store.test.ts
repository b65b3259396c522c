/** The storage contract (store-suite.ts) against the embedded SQLite store and a real PostgreSQL. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';
import { openPostgresStore } from '../../src/relay/postgres';
import { openSqliteStore } from '../../src/relay/sqlite';
import { postgresAvailable, startPostgres, type PostgresServer } from './postgres-server';
import { storeSuite } from './store-suite';

const dir = mkdtempSync(join(tmpdir(), 'tracklet-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
storeSuite('SQLite', async () => {
  const file = join(dir, `store-${files++}.db`);
  return { open: async () => openSqliteStore(file) };
});

describe.runIf(postgresAvailable())('PostgreSQL', () => {
  let server: PostgresServer;
  let databases = 0;
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(() => server?.destroy());

  // A fresh database per test: every test starts from an empty, freshly migrated schema.
  storeSuite('PostgreSQL', async () => {
    const name = `store_${databases++}`;
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = server.url.replace(/\/postgres$/, `/${name}`);
    return { open: () => openPostgresStore(url, { poolSize: 4 }) };
  });
});
