/** Picks the store a location names, so the CLI and `startRelay()` take one string for either. */
import { isPostgresUrl, openPostgresStore, type PostgresStoreOptions } from './postgres';
import { openSqliteStore } from './sqlite';
import type { Store } from './store';

/**
 * Opens the store at `location`: a `postgres://` / `postgresql://` URL opens PostgreSQL (migrated on
 * start); anything else is a SQLite file, `:memory:` for a throwaway one.
 */
export async function openStore(
  location: string,
  options: PostgresStoreOptions = {},
): Promise<Store> {
  return isPostgresUrl(location) ? openPostgresStore(location, options) : openSqliteStore(location);
}
