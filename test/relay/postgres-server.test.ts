import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { postgresAvailable, startPostgres, type PostgresServer } from './postgres-server';

let server: PostgresServer;
beforeAll(async () => {
  if (postgresAvailable()) server = await startPostgres();
});
afterAll(() => server?.destroy());

describe.runIf(postgresAvailable())('throwaway PostgreSQL', () => {
  it('answers queries on 127.0.0.1 and comes back after a restart', async () => {
    const query = async () => {
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      const { rows } = await client.query('select 1 + 1 as two');
      await client.end();
      return rows[0].two;
    };
    expect(await query()).toBe(2);
    server.stop();
    await expect(query()).rejects.toThrow();
    server.start();
    expect(await query()).toBe(2);
  });
});
