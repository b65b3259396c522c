/** Configuration: defaults, secrets from the environment, and one clear message naming each bad key. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/relay/config';
import { CLI, ensureBuilt, tempDir, writeConfig } from './helpers';

const site = (destinations: unknown[] = [], origins = ['https://shop.example']) => ({
  sites: { shop: { origins, destinations } },
});
const env = { KEY: 'k', SRC: 's' };

describe('resolveConfig', () => {
  it('fills defaults and reads secrets from the named environment variables', () => {
    const config = resolveConfig(
      site([
        { type: 'growlytics', apiKeyEnv: 'KEY' },
        { type: 'databuddy', clientId: 'c', name: 'db2', attempts: 3 },
      ]),
      env,
    );
    expect(config.maxBodyBytes).toBe(131072);
    expect(config.sites.shop.destinations[0]).toMatchObject({
      key: 'shop/growlytics',
      secrets: { apiKey: 'k' },
      attempts: 8,
      timeoutMs: 10_000,
    });
    expect(config.sites.shop.destinations[1]).toMatchObject({
      key: 'shop/db2',
      attempts: 3,
      secrets: {},
    });
  });

  it.each([
    ['no sites', {}, 'sites: Invalid key: Expected "sites" but received undefined'],
    [
      'an origin that is not a URL',
      site([], ['shop.example']),
      'sites.shop.origins.0: Invalid URL',
    ],
    ['an unknown destination type', site([{ type: 'mixpanel' }]), 'sites.shop.destinations.0.type'],
    [
      'Tracardi without baseUrl',
      site([{ type: 'tracardi', sourceId: 'x' }]),
      'sites.shop.destinations.0.baseUrl',
    ],
    [
      'Tracify without baseUrl',
      site([{ type: 'tracify', customerSiteId: 'x', apiKeyEnv: 'KEY' }]),
      'sites.shop.destinations.0.baseUrl',
    ],
    [
      'Tracardi without a source',
      site([{ type: 'tracardi', baseUrl: 'http://127.0.0.1:1' }]),
      'sites.shop.destinations.0.sourceId: required',
    ],
    [
      'a base URL that is not http',
      site([{ type: 'databuddy', clientId: 'c', baseUrl: 'ftp://x' }]),
      'sites.shop.destinations.0.baseUrl',
    ],
    [
      'an unset secret',
      site([{ type: 'growlytics', apiKeyEnv: 'MISSING_KEY' }]),
      'sites.shop.destinations.0.apiKeyEnv: environment variable MISSING_KEY is not set',
    ],
    [
      'a secret in the file',
      site([{ type: 'growlytics', apiKey: 'k' }]),
      'sites.shop.destinations.0.apiKey',
    ],
    [
      'two destinations with one name',
      site([
        { type: 'databuddy', clientId: 'a' },
        { type: 'databuddy', clientId: 'b' },
      ]),
      'sites.shop.destinations.1.name',
    ],
    ['a negative timeout', { ...site(), delivery: { timeoutMs: -1 } }, 'delivery.timeoutMs'],
    ['a typo', { ...site(), trustedProxy: [] }, 'trustedProxy'],
  ])('refuses %s, naming the key', (_name, input, message) => {
    expect(() => resolveConfig(input, env)).toThrow(message);
  });

  it('accepts plain http://127.0.0.1:<port> base URLs', () => {
    expect(
      resolveConfig(
        site([{ type: 'tracardi', baseUrl: 'http://127.0.0.1:8686', sourceIdEnv: 'SRC' }]),
        env,
      ).sites.shop.destinations[0].secrets,
    ).toEqual({ sourceId: 's' });
  });
});

describe('the CLI with bad configuration', () => {
  beforeAll(ensureBuilt, 180_000);

  it('stops at start with one line naming the key', async () => {
    const path = writeConfig(tempDir(), site([{ type: 'datacue', apiKeyEnv: 'NOT_SET_ANYWHERE' }]));
    let error: { status: number; stderr: string } | undefined;
    try {
      execFileSync(process.execPath, [CLI, '--config', path, '--port', '0'], {
        encoding: 'utf8',
        stdio: 'pipe',
        timeout: 10_000,
      });
    } catch (e) {
      error = e as { status: number; stderr: string };
    }
    expect(error?.status).toBe(1);
    expect(error?.stderr.trim()).toBe(
      `tracklet-relay: bad config in ${path}: sites.shop.destinations.0.apiKeyEnv: ` +
        `environment variable NOT_SET_ANYWHERE is not set`,
    );
  });
});

describe('docs/relay.md, "Configuration"', () => {
  it('has config examples that all validate', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'relay.md'), 'utf8');
    const start = readme.indexOf('\n## Configuration');
    const text = readme.slice(start, readme.indexOf('\n## ', start + 1));
    const blocks = [...text.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]));
    expect(blocks.length).toBeGreaterThanOrEqual(7);
    const anyVariable = new Proxy({}, { get: () => 'set' }) as Record<string, string>;
    for (const block of blocks) expect(() => resolveConfig(block, anyVariable)).not.toThrow();
    const types = new Set(
      blocks.flatMap((b) =>
        Object.values(b.sites as Record<string, { destinations: { type: string }[] }>).flatMap(
          (s) => s.destinations.map((d) => d.type),
        ),
      ),
    );
    expect([...types].sort()).toEqual([
      'databuddy',
      'datacue',
      'growlytics',
      'tracardi',
      'tracify',
      'webhook',
    ]);
  });
});
