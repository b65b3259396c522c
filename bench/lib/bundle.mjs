// One set of esbuild settings for every bundle the benchmark compares, Tracklet's and the peers'.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

export const ROOT = resolve(import.meta.dirname, '../..');

/** The browser target of Tracklet's own build (build.mjs), used for every bundle here too. */
export const TARGET =
  /target:\s*'(es\d+)'/.exec(readFileSync(resolve(ROOT, 'build.mjs'), 'utf8'))?.[1] || 'es2020';

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
 * What an app's bundler does with `import()`: the imported module goes to a chunk of its own, fetched
 * only when the call runs. esbuild's single-file output would inline it, so it is left out instead.
 */
const dynamicImportsApart = {
  name: 'dynamic-imports-apart',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) =>
      args.kind == 'dynamic-import' ? { path: args.path, external: true } : undefined,
    );
  },
};

/**
 * Bundles an entry file. `bench` keeps the few lines that expose `window.bench` to the browser
 * harness; size figures are taken without them.
 */
export const bundle = async (entry, { bench = false, splitDynamic = false } = {}) => {
  const result = await build({
    ...SETTINGS,
    entryPoints: [entry],
    define: { BENCH: String(bench), 'process.env.NODE_ENV': '"production"' },
    plugins: splitDynamic ? [dynamicImportsApart] : [],
  });
  return result.outputFiles[0].contents;
};

/** Minified, gzip (level 9) and brotli (quality 11) bytes, as build.mjs reports them. */
export const sizes = (code) => ({
  min: code.length,
  gzip: gzipSync(code, { level: 9 }).length,
  brotli: brotliCompressSync(code, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
});
