// One set of esbuild settings for every bundle the benchmark compares, Tracklet's and the peers'.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { define } from '../../build.mjs';

export const ROOT = resolve(import.meta.dirname, '../..');

/** The browser target of Tracklet's own build (build.mjs), used for every bundle here too. */
export const TARGET = /target:\s*'(es\d+)'/.exec(readFileSync(resolve(ROOT, 'build.mjs'), 'utf8'))?.[1] || 'es2020';

/** The settings every peer entry and Tracklet's npm entry are bundled with: what an app's bundler would do. */
export const SETTINGS = {
  bundle: true,
  minify: true,
  format: 'iife',
  target: TARGET,
  platform: 'browser',
  legalComments: 'none',
  write: false,
  logLevel: 'error',
  absWorkingDir: ROOT,
  // `import … from 'tracklet'` resolves to this package's own npm build, as it would from node_modules.
  alias: { tracklet: ROOT },
};

/**
 * Bundles an entry file. `bench` keeps the few lines that expose `window.bench` to the browser
 * harness; size figures are taken without them.
 */
export const bundle = async (entry, { bench = false } = {}) => {
  const result = await build({
    ...SETTINGS,
    entryPoints: [entry],
    define: { BENCH: String(bench), 'process.env.NODE_ENV': '"production"' },
  });
  return result.outputFiles[0].contents;
};

/** Tracklet's script-tag build from src/script.ts as build.mjs makes it, with the given captures stubbed out. */
export const bundleScript = async (without = []) => {
  const stubbed = new Set(without.map((file) => resolve(ROOT, file)));
  const result = await build({
    bundle: true,
    minify: true,
    target: TARGET,
    legalComments: 'none',
    mangleProps: /_$/,
    format: 'iife',
    write: false,
    logLevel: 'error',
    absWorkingDir: ROOT,
    entryPoints: ['src/script.ts'],
    define: define({}),
    plugins: [
      {
        name: 'stub-captures',
        setup(b) {
          b.onLoad({ filter: /[\\/]src[\\/]capture[\\/]/ }, (args) => {
            if (!stubbed.has(args.path)) return;
            return { contents: stubOf(readFileSync(args.path, 'utf8')), loader: 'ts' };
          });
        },
      },
    ],
  });
  return result.outputFiles[0].contents;
};

/** A module with the same exports as `source`, each a function that does nothing (a capture that never starts). */
const stubOf = (source) => {
  const names = new Set();
  for (const m of source.matchAll(/export\s+(?:async\s+)?(?:const|let|var|function\*?)\s+([\w$]+)/g)) names.add(m[1]);
  for (const m of source.matchAll(/export\s*\{([^}]*)\}(?!\s*from)/g))
    for (const part of m[1].split(',')) {
      const name = part.trim().split(/\s+as\s+/).pop();
      if (name && !name.startsWith('type ')) names.add(name);
    }
  return [...names].map((name) => `export const ${name}: any = () => () => {};`).join('\n') || 'export {};';
};

/** The capture modules src/script.ts imports directly: each one can be switched off in a variant. */
export const scriptCaptures = () => {
  const source = readFileSync(resolve(ROOT, 'src/script.ts'), 'utf8');
  return [...source.matchAll(/from\s+['"]\.\/capture\/([\w-]+)(?:\.ts)?['"]/g)].map((m) => `src/capture/${m[1]}.ts`);
};

/** Minified, gzip (level 9) and brotli (quality 11) bytes, as build.mjs reports them. */
export const sizes = (code) => ({
  min: code.length,
  gzip: gzipSync(code, { level: 9 }).length,
  brotli: brotliCompressSync(code, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
});

export const rel = (file) => relative(ROOT, file);
