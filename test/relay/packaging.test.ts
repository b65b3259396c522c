/**
 * The package as others consume it: require() from CommonJS, the relay's compiled types, the CLI's
 * flags, the image's command.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CLI, ensureBuilt, pageview, batch, tempDir } from './helpers';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 180_000 });

const ROOT = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
let dir: string;

beforeAll(ensureBuilt, 180_000);

/** A fresh project with this package installed under node_modules/tracklet (a link to the repository). */
const project = (files: Record<string, string>): string => {
  const root = join(dir, Math.random().toString(36).slice(2));
  mkdirSync(join(root, 'node_modules'), { recursive: true });
  symlinkSync(ROOT, join(root, 'node_modules', 'tracklet'), 'dir');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(root, name), text);
  return root;
};

beforeAll(() => {
  dir = tempDir();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('CommonJS consumers', () => {
  it('require("tracklet") and require("tracklet/collector") load, and the required relay ingests a batch', () => {
    const body = JSON.stringify(batch([pageview()]));
    const root = project({
      'package.json': '{ "type": "commonjs" }',
      'main.js':
        `
        const tracklet = require('tracklet');
        const { startRelay } = require('tracklet/collector');
        (async () => {
          const relay = await startRelay({ config: { sites: { shop: { origins: ['*'], destinations: [] } } } });
          const health = await (await fetch(relay.url + '/health')).json();
          const answer = await (await fetch(relay.url + '/collect', { method: 'POST', headers: { ` +
        `'Content-Type': 'text/plain' }, body: ${JSON.stringify(body)} })).json();
          const stored = await relay.store.countEvents();
          await relay.close();
          console.log(JSON.stringify({ api: ['init', 'track', 'identify', 'flush'].map((k) => ` +
        `typeof tracklet[k]), health, answer, stored }));
        })();`,
    });
    const out = JSON.parse(
      execFileSync(process.execPath, ['main.js'], { cwd: root, encoding: 'utf8' }),
    );
    expect(out).toEqual({
      api: ['function', 'function', 'function', 'function'],
      health: { status: 'ok' },
      answer: { ok: true, accepted: 1, duplicates: 0 },
      stored: 1,
    });
  });
});

describe('the relay’s types', () => {
  it.each(['node16', 'bundler'])(
    'type-check a consumer of tracklet/collector (moduleResolution %s) from compiled .d.ts',
    (resolution) => {
      const root = project({
        'package.json': '{ "type": "module" }',
        'tsconfig.json': JSON.stringify({
          compilerOptions: {
            strict: true,
            noEmit: true,
            target: 'ES2022',
            module: resolution == 'node16' ? 'node16' : 'ESNext',
            moduleResolution: resolution,
            lib: ['ES2022', 'DOM', 'DOM.Iterable'],
            types: ['node'],
            typeRoots: [join(ROOT, 'node_modules', '@types')],
          },
          files: ['main.ts'],
        }),
        'main.ts':
          `
        import { startRelay, openSqliteStore, type Relay, type StoredEvent, type RelayConfig } ` +
          `from 'tracklet/collector';
        const relay: Promise<Relay> = startRelay({ config: { sites: {} }, port: 0 });
        const store = openSqliteStore(':memory:');
        const site: StoredEvent['site'] = 'shop';
        const poll: RelayConfig['pollMs'] = 100;
        // @ts-expect-error: a port is a number; with untyped (any) declarations this line would not fail.
        void startRelay({ config: {}, port: 'eighty' });
        export { relay, store, site, poll };`,
      });
      const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
      let output = '';
      try {
        execFileSync(process.execPath, [tsc, '-p', root], { encoding: 'utf8' });
      } catch (error) {
        output = String((error as { stdout?: string }).stdout);
      }
      expect(output).toBe('');
      // The declarations are compiled files, not the TypeScript sources.
      const resolved = (
        JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
          exports: Record<string, { types: string }>;
        }
      ).exports['./collector'].types;
      expect(resolved).toMatch(/^\.\/dist\/.*\.d\.ts$/);
    },
  );
});

describe('one name, the relay, with its first name still working', () => {
  it('tracklet/relay and tracklet/collector resolve to the same module, ESM and CommonJS', () => {
    const root = project({
      'package.json': '{ "type": "module" }',
      'esm.mjs':
        "import * as relay from 'tracklet/relay'; import * as old from 'tracklet/collector';\n" +
        'console.log(JSON.stringify([Object.keys(relay).sort(), relay.startRelay === old.startRelay]));',
      'cjs.cjs':
        "const relay = require('tracklet/relay'), old = require('tracklet/collector');\n" +
        'console.log(JSON.stringify([Object.keys(relay).sort(), relay.startRelay === old.startRelay]));',
    });
    const [esmKeys, esmSame] = JSON.parse(
      execFileSync(process.execPath, ['esm.mjs'], { cwd: root, encoding: 'utf8' }),
    ) as [string[], boolean];
    const [cjsKeys, cjsSame] = JSON.parse(
      execFileSync(process.execPath, ['cjs.cjs'], { cwd: root, encoding: 'utf8' }),
    ) as [string[], boolean];
    expect(esmKeys).toContain('startRelay');
    expect(esmKeys).toContain('createHandler');
    expect([esmSame, cjsSame]).toEqual([true, true]);
    expect(cjsKeys).toEqual(esmKeys);
  });

  it('the CLI at its first path, dist/collector/cli.js, is the same CLI', () => {
    const old = join(ROOT, 'dist', 'collector', 'cli.js');
    const out = (cli: string) =>
      execFileSync(process.execPath, [cli, '--help'], { encoding: 'utf8' });
    expect(out(old)).toMatch(/usage: tracklet-relay/);
    expect(out(old)).toBe(out(CLI));
    expect(CLI).toMatch(/dist[\\/]relay[\\/]cli\.js$/);
  });
});

describe('the CLI’s own flags', () => {
  const run = (...args: string[]) =>
    execFileSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

  it('--version prints the package version', () => {
    expect(run('--version').trim()).toBe(pkg.version);
  });

  it('--help lists the commands; <command> --help describes that command', () => {
    expect(run('--help')).toMatch(/usage: tracklet-relay \[serve\|check\|status\|dead-letters/);
    expect(run('status', '--help')).toMatch(
      /^usage: tracklet-relay status --config <file>.*\n.*destination's queue/,
    );
    expect(run('dead-letters', '--help')).toMatch(/--requeue sends them again/);
    expect(run('serve', '--help')).toMatch(/--store .*postgres:\/\//);
  });
});

describe('the container image’s command', () => {
  it(
    'runs the Dockerfile’s exact ENTRYPOINT and CMD against ' +
      'the built tree, paths and port mapped to a temp dir',
    async () => {
      const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
      const array = (keyword: string) =>
        JSON.parse(new RegExp(`^${keyword} (\\[.*\\])$`, 'm').exec(dockerfile)![1]) as string[];
      const entrypoint = array('ENTRYPOINT');
      const command = array('CMD');
      expect(entrypoint[0]).toBe('node');
      const data = join(dir, 'data');
      mkdirSync(data, { recursive: true });
      writeFileSync(
        join(dir, 'relay.json'),
        JSON.stringify({
          adminTokenEnv: 'TRACKLET_ADMIN_TOKEN',
          sites: { shop: { origins: ['*'], destinations: [] } },
        }),
      );
      // Only what a container maps differs: the mounted config and volume, and a free port on loopback.
      const mapped = command.map(
        (arg) =>
          ({
            '/config/relay.json': join(dir, 'relay.json'),
            '/data/relay.db': join(data, 'relay.db'),
            '8787': '0',
            '0.0.0.0': '127.0.0.1',
          })[arg] ?? arg,
      );
      const child = spawn(process.execPath, [...entrypoint.slice(1), ...mapped], {
        cwd: ROOT,
        env: { ...process.env, TRACKLET_ADMIN_TOKEN: 'docker-test-token', NODE_ENV: 'production' },
      });
      try {
        const url = await new Promise<string>((resolve, reject) => {
          let out = '';
          let err = '';
          const timer = setTimeout(() => reject(new Error('no listening line: ' + err)), 20_000);
          child.stderr.on('data', (d) => (err += d));
          child.stdout.on('data', (d) => {
            out += d;
            const match = /listening on (http:\/\/\S+)/.exec(out);
            if (match) (clearTimeout(timer), resolve(match[1]));
          });
          child.once('exit', (code) => reject(new Error(`exited with ${code}: ${err}`)));
        });
        expect(await (await fetch(url + '/health')).json()).toEqual({ status: 'ok' });
        const answer = await fetch(url + '/collect', {
          method: 'POST',
          headers: { 'Content-Type': 'text/plain' },
          body: JSON.stringify(batch([pageview()])),
        });
        expect(await answer.json()).toEqual({ ok: true, accepted: 1, duplicates: 0 });
        const status = await fetch(url + '/status', {
          headers: { Authorization: 'Bearer docker-test-token' },
        });
        expect((await status.json()).events).toBe(1);
      } finally {
        child.kill('SIGTERM');
      }
    },
  );
});
