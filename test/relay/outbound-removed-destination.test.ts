/**
 * A destination removed from the config (or renamed) while events wait for it: the relay restarted
 * on the same store without it keeps them queued (adding it back sends them), and /status shows
 * that queue, marked `configured: false`, instead of hiding it; so does `tracklet-relay status`.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRelay } from '../../src/relay/index';
import {
  batch,
  CLI,
  ensureBuilt,
  pageview,
  post,
  status,
  tempDir,
  until,
  writeConfig,
} from './helpers';
import { webhookMock } from './mocks';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

// The CLI's status is checked too (dist/ is built when stale).
beforeAll(ensureBuilt, 180_000);

const configOf = (destinations: unknown[]) => ({
  delivery: { pollMs: 20, attempts: 50, backoffBaseMs: 10, backoffMaxMs: 20 },
  sites: { shop: { origins: ['*'], destinations } },
});

describe('a destination removed from the config while events wait for it', () => {
  it('keeps them queued, shows them in /status, and sends them once it is configured again', async () => {
    const kept = await webhookMock();
    const removed = await webhookMock();
    cleanup.push(
      () => kept.close(),
      () => removed.close(),
    );
    removed.mode = 'fail';
    const storePath = join(tempDir(), 'relay.db');
    const both = configOf([
      { type: 'webhook', name: 'kept', url: kept.url + '/hook' },
      { type: 'webhook', name: 'old', url: removed.url + '/hook' },
    ]);
    let relay = await startRelay({ config: both, storePath });
    expect((await post(relay.url, batch([pageview(), pageview()]))).status).toBe(200);
    await until(async () => {
      const s = await status(relay.url);
      return s.destinations[0].delivered == 2 && s.destinations[1].retrying == 2;
    });
    await relay.close();

    relay = await startRelay({ config: configOf([both.sites.shop.destinations[0]]), storePath });
    const s = await status(relay.url);
    expect(s.destinations.map((d) => d.destination)).toEqual(['shop/kept', 'shop/old']);
    expect(s.destinations[1]).toMatchObject({ configured: false, queued: 2, dead: 0 });
    expect(s.destinations[1].lastError).toMatch(/HTTP 500/);
    await relay.close();
    const reduced = writeConfig(tempDir(), configOf([both.sites.shop.destinations[0]]));
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [CLI, 'status', '--json', '--config', reduced, '--store', storePath],
      { encoding: 'utf8' },
    );
    expect(JSON.parse(stdout).destinations[1]).toMatchObject({
      destination: 'shop/old',
      configured: false,
      queued: 2,
    });

    removed.mode = 'ok';
    relay = await startRelay({ config: both, storePath });
    cleanup.push(() => relay.close());
    await until(async () => (await status(relay.url)).destinations[1].delivered == 2);
    expect(removed.accepted.flatMap((r) => r.body.events)).toHaveLength(2);
  });
});
