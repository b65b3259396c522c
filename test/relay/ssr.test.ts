/**
 * Server-side rendering: a Node project (no window, no document) imports `tracklet` and
 * `tracklet/react` as a framework's server does, renders the provider to a string, and nothing is
 * started, printed, thrown or left running. Also type-checks a React consumer of tracklet/react.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ensureBuilt, tempDir } from './helpers';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 180_000 });

const ROOT = join(import.meta.dirname, '..', '..');
let dir: string;

beforeAll(ensureBuilt, 180_000);
beforeAll(() => {
  dir = tempDir();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh project with tracklet (this repository), react and react-dom installed as links. */
const project = (files: Record<string, string>): string => {
  const root = join(dir, Math.random().toString(36).slice(2));
  mkdirSync(join(root, 'node_modules', '@types'), { recursive: true });
  symlinkSync(ROOT, join(root, 'node_modules', 'tracklet'), 'dir');
  for (const name of ['react', 'react-dom', '@types/react', '@types/react-dom']) {
    symlinkSync(join(ROOT, 'node_modules', name), join(root, 'node_modules', name), 'dir');
  }
  for (const [name, text] of Object.entries(files)) writeFileSync(join(root, name), text);
  return root;
};

/** Runs `file` in a plain Node process that must exit by itself; its output. */
const run = (root: string, file: string): { stdout: string; stderr: string } => {
  const result = spawnSync(process.execPath, [file], {
    cwd: root,
    encoding: 'utf8',
    timeout: 20_000,
  });
  expect(result.signal).toBe(null);
  expect(result.status).toBe(0);
  return { stdout: result.stdout, stderr: result.stderr };
};

// What the server-side script reports: the globals it added, the rendered markup, and what the
// calls a component may make during render returned.
const report = `
  const out = {
    addedGlobals: Object.keys(globalThis).filter((key) => !before.includes(key)),
    hasWindow: typeof window != 'undefined',
    html: renderToString(
      createElement(TrackletProvider, { options: { endpoint: 'https://relay.example/collect', site: 'shop' } },
        createElement(Child))),
    calls: [typeof tracklet.init, typeof useTracklet().track, tracklet.getAnonymousId(), tracklet.getSessionId()],
    // Timers or sockets left behind would keep a server's worker busy (and this process alive).
    resources: process.getActiveResourcesInfo().filter((kind) => /Timeout|Immediate|TCP|UDP/.test(kind)),
  };
  console.log(JSON.stringify(out));`;
const child = `
  function Child() {
    const { track } = useTracklet();
    // A call during a server render is kept for an init() that never comes on the server: harmless.
    track('rendered');
    return createElement('p', null, 'tracked: ' + typeof track);
  }`;

/** No global added, the markup rendered, no ids (no tracker), nothing left running. */
const EXPECTED = {
  addedGlobals: [],
  hasWindow: false,
  html: '<p>tracked: function</p>',
  calls: ['function', 'function', null, null],
  resources: [],
};

describe('server-side rendering', () => {
  it('an ES module server imports tracklet and tracklet/react, renders the provider, and starts nothing', () => {
    const root = project({
      'package.json': '{ "type": "module" }',
      'server.js': `
        const before = Object.keys(globalThis);
        const tracklet = await import('tracklet');
        const { TrackletProvider, useTracklet } = await import('tracklet/react');
        const { createElement } = await import('react');
        const { renderToString } = await import('react-dom/server');
        ${child}
        ${report}`,
    });
    const { stdout, stderr } = run(root, 'server.js');
    expect(JSON.parse(stdout)).toEqual(EXPECTED);
    expect(stderr).toBe('');
  });

  it('a CommonJS server requires tracklet and tracklet/react, renders the provider, and starts nothing', () => {
    const root = project({
      'package.json': '{ "type": "commonjs" }',
      'server.js': `
        const before = Object.keys(globalThis);
        const tracklet = require('tracklet');
        const { TrackletProvider, useTracklet } = require('tracklet/react');
        const { createElement } = require('react');
        const { renderToString } = require('react-dom/server');
        ${child}
        ${report}`,
    });
    const { stdout, stderr } = run(root, 'server.js');
    expect(JSON.parse(stdout)).toEqual(EXPECTED);
    expect(stderr).toBe('');
  });
});

describe('tracklet/react’s types', () => {
  it.each(['node16', 'bundler'])(
    'type-check a TSX consumer (moduleResolution %s) from the compiled .d.ts',
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
            jsx: 'react-jsx',
            lib: ['ES2022', 'DOM', 'DOM.Iterable'],
            types: [],
            // The libraries' own declarations are theirs to check (several times faster); ours are
            // still read, and an error in their use shows.
            skipLibCheck: true,
          },
          files: ['app.tsx'],
        }),
        'app.tsx': `
        import { TrackletProvider, useTracklet, type TrackletClient } from 'tracklet/react';
        function Buy() {
          const tracklet: TrackletClient = useTracklet();
          return <button onClick={() => tracklet.track('buy', { sku: 'A1', price: 9.5 })}>Buy</button>;
        }
        export const App = () => (
          <TrackletProvider options={{ endpoint: 'https://relay.example/collect', site: 'shop', spa: 'history' }}>
            <Buy />
          </TrackletProvider>
        );
        // @ts-expect-error: the provider needs its options.
        export const Missing = () => <TrackletProvider><Buy /></TrackletProvider>;
        // @ts-expect-error: spa is one of history, hash or off.
        export const Wrong = () => <TrackletProvider options={{ endpoint: 'x', site: 's', spa: 'router' }} />;
        // @ts-expect-error: track() needs a name.
        export const NoName = () => useTracklet().track();`,
      });
      const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
      const result = spawnSync(process.execPath, [tsc, '-p', root], { encoding: 'utf8' });
      expect(result.stdout).toBe('');
      expect(result.status).toBe(0);
    },
  );
});
