// One set of esbuild settings for every bundle the benchmark compares, Tracklet's and the peers'.
import { build } from 'esbuild';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
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

/**
 * Tracklet's script-tag build from src/script.ts as build.mjs makes it; each capture named in
 * `without` has its call in script.ts replaced by a capture that does nothing, so esbuild drops the
 * module's code (helpers that other modules still import stay, as they would in a real build).
 */
export const bundleScript = async (without = []) => {
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
        name: 'captures-off',
        setup(b) {
          b.onLoad({ filter: /[\\/]src[\\/]script\.ts$/ }, (args) => {
            let contents = readFileSync(args.path, 'utf8');
            for (const name of without) contents = contents.replace(new RegExp(`\\b${name}\\(\\)`, 'g'), '(() => {})');
            return { contents, loader: 'ts' };
          });
        },
      },
    ],
  });
  return result.outputFiles[0].contents;
};

/** The captures src/script.ts starts (a module of src/capture/ whose factory it calls): each can be switched off. */
export const scriptCaptures = () => {
  const source = readFileSync(resolve(ROOT, 'src/script.ts'), 'utf8');
  return readdirSync(resolve(ROOT, 'src/capture'))
    .filter((file) => file.endsWith('.ts'))
    .map((file) => file.slice(0, -3))
    .filter((name) => new RegExp(`\\b${name}\\(\\)`).test(source));
};

/** Minified, gzip (level 9) and brotli (quality 11) bytes, as build.mjs reports them. */
export const sizes = (code) => ({
  min: code.length,
  gzip: gzipSync(code, { level: 9 }).length,
  brotli: brotliCompressSync(code, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
});

