// Every build of Tracklet in one script: `node build.mjs` (or `npm run build`).
// The browser variants come from one source, told apart by the FLAGS below (esbuild `define`).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { pathToFileURL } from 'node:url';
import { minify } from 'terser';

/** Build-time switches. Every flag is false by default; a variant turns some on. */
export const FLAGS = {
  /** Verbose diagnostics (the debug build). */
  DEBUG: false,
  /**
   * `stop()` on the tracker, its queue and outbox, and the captures' stop functions: on in the
   * tests, so that no case shares live listeners. The builds call no `stop()`, so it is compiled
   * out of them (it would cost the script tag about 100 B brotli).
   */
  TEARDOWN: false,
};

/** Turns a flag table into esbuild/vitest `define` entries. */
export const define = (flags) =>
  Object.fromEntries(
    Object.entries({ ...FLAGS, ...flags }).map(([k, v]) => [k, JSON.stringify(v)]),
  );

const browser = {
  bundle: true,
  minify: true,
  target: 'es2020',
  // Class fields stay as written (every es2020 browser but Safari 13.1 has them): esbuild would
  // otherwise rewrite web-vitals' classes through helpers, +112 B brotli.
  supported: { 'class-field': true },
  legalComments: 'none',
  mangleProps: /_$/,
  sourcemap: true,
  logLevel: 'warning',
};

/** The browser variants: one row each. */
export const VARIANTS = [
  // V8's compile hint (Chromium 136+): every function of the first file is compiled with the file,
  // off the main thread while it streams in, instead of one by one on first call (the start-up
  // bench's main-thread time about halves, for 30 bytes).
  { name: 'tracklet', entry: 'src/script.ts', format: 'iife', flags: {}, hint: true },
  { name: 'tracklet.debug', entry: 'src/script.ts', format: 'iife', flags: { DEBUG: true } },
  // The second file both load from next to themselves: web-vitals and the vitals, errors, clicks
  // and engagement captures.
  { name: 'tracklet.captures', entry: 'src/captures.ts', format: 'iife', flags: {} },
  // The third file, fetched before the start only by tags that use it: init(), props, 404s, forms,
  // cross-domain, consent platforms.
  { name: 'tracklet.marketing', entry: 'src/marketing.ts', format: 'iife', flags: {} },
];

export async function buildAll() {
  rmSync('dist', { recursive: true, force: true });
  for (const v of VARIANTS) {
    await build({
      ...browser,
      entryPoints: [v.entry],
      format: v.format,
      outfile: `dist/${v.name}.js`,
      define: define(v.flags),
      banner: v.hint ? { js: '//# allFunctionsCalledOnLoad' } : undefined,
    });
    await squeeze(`dist/${v.name}.js`, v.hint);
  }
  // npm build: ESM, unminified names kept readable, web-vitals left as an import so the app's bundler dedupes it.
  await build({
    ...browser,
    minify: false,
    minifySyntax: true,
    entryPoints: ['src/index.ts'],
    format: 'esm',
    splitting: true,
    outdir: 'dist/npm',
    external: ['web-vitals', 'web-vitals/*'],
    define: define({}),
  });
  // tracklet/react: React stays the app's own, and the calls come from the npm build above (one
  // tracker per page, whichever entry the app imports first). Next.js needs the client directive.
  for (const format of ['esm', 'cjs']) {
    const index = format == 'esm' ? './index.js' : './index.cjs';
    await build({
      ...browser,
      minify: false,
      minifySyntax: true,
      entryPoints: ['src/react.ts'],
      format,
      outfile: `dist/npm/react.${format == 'esm' ? 'js' : 'cjs'}`,
      external: ['react'],
      banner: { js: "'use client';" },
      plugins: [
        {
          name: 'npm-entry',
          setup: (b) =>
            b.onResolve({ filter: /^\.\/index$/ }, () => ({ path: index, external: true })),
        },
      ],
      define: define({}),
    });
  }
  execFileSync('node_modules/.bin/tsc', ['-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  // The relay: Node only, its dependencies stay external.
  if (existsSync('src/relay/cli.ts'))
    await build({
      entryPoints: ['src/relay/index.ts', 'src/relay/cli.ts'],
      outdir: 'dist/relay',
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      packages: 'external',
      sourcemap: true,
      logLevel: 'warning',
      banner: { js: '#!/usr/bin/env node' },
    });
  // CommonJS, for require('tracklet') and require('tracklet/relay'): the same code in one file each.
  await build({
    ...browser,
    minify: false,
    minifySyntax: true,
    entryPoints: ['src/index.ts'],
    format: 'cjs',
    outfile: 'dist/npm/index.cjs',
    external: ['web-vitals', 'web-vitals/*'],
    define: define({}),
  });
  if (existsSync('src/relay/cli.ts')) {
    await build({
      entryPoints: ['src/relay/index.ts'],
      outfile: 'dist/relay/index.cjs',
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      packages: 'external',
      sourcemap: true,
      logLevel: 'warning',
    });
    // The relay's types, compiled (dist/types/relay/index.d.ts), so consumers need no TypeScript sources.
    execFileSync('node_modules/.bin/tsc', ['-p', 'tsconfig.relay.json'], { stdio: 'inherit' });
    // Its first path, kept for deployments that start `node dist/collector/cli.js`.
    mkdirSync('dist/collector');
    writeFileSync('dist/collector/cli.js', "#!/usr/bin/env node\nimport '../relay/cli.js';\n");
  }
  for (const dir of ['dist/npm', 'dist/types']) if (existsSync(dir)) withExtensions(dir);
  report();
}

/**
 * A second minifier pass over a browser file, source map carried through: terser picks short names
 * by how often each is used and folds what esbuild leaves, which brotli rewards (about 5 % of each
 * file: 230 B of the first, 250 B of the second).
 */
async function squeeze(file, hint) {
  const name = file.slice(5);
  const code = readFileSync(file, 'utf8').replace(/\n\/\/# sourceMappingURL=.*\n?$/, '');
  const out = await minify(code, {
    ecma: 2020,
    compress: { passes: 2 },
    format: hint ? { preamble: '//# allFunctionsCalledOnLoad' } : {},
    sourceMap: { content: readFileSync(file + '.map', 'utf8'), url: name + '.map' },
  });
  writeFileSync(file, out.code + '\n');
  writeFileSync(file + '.map', out.map);
}

/**
 * Gives the relative imports of emitted declarations their `.js` file (tsc keeps them as written,
 * extensionless), so that projects resolving as Node does (`moduleResolution: node16`) find them.
 */
function withExtensions(dir) {
  for (const entry of readdirSync(dir, { recursive: true })) {
    const file = join(dir, entry);
    if (!file.endsWith('.d.ts')) continue;
    const text = readFileSync(file, 'utf8');
    const fixed = text.replace(
      /(from\s+|import\()(['"])(\.\.?\/[^'"]*)\2/g,
      (match, lead, quote, spec) => {
        if (/\.(js|cjs|mjs|json)$/.test(spec)) return match;
        const target = join(dirname(file), spec);
        if (existsSync(target + '.d.ts')) return `${lead}${quote}${spec}.js${quote}`;
        if (existsSync(join(target, 'index.d.ts')))
          return `${lead}${quote}${spec}/index.js${quote}`;
        return match;
      },
    );
    if (fixed != text) writeFileSync(file, fixed);
  }
}

/**
 * Prints sizes and the SRI hash of each script-tag file (for `integrity=` attributes), and writes
 * it to `<file>.sri`.
 */
function report() {
  const kb = (n) => (n / 1024).toFixed(2) + ' kB';
  for (const name of ['tracklet.js', 'tracklet.captures.js', 'tracklet.marketing.js']) {
    const file = readFileSync(`dist/${name}`);
    const sri = 'sha384-' + createHash('sha384').update(file).digest('base64');
    writeFileSync(`dist/${name}.sri`, sri + '\n');
    console.log(
      `dist/${name}  ${kb(file.length)} min, ${kb(gzipSync(file, { level: 9 }).length)} ` +
        `gzip, ${kb(brotliCompressSync(file).length)} brotli`,
    );
    console.log(`  integrity="${sri}"`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await buildAll();
}
