// The npm build is tree-shaken by the app's bundler: a capture that is not imported is not in the
// app's bundle (not merely switched off). Bundles a small app against the built dist/npm with esbuild.
import { build } from 'esbuild';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

/** Bundles `import { …names } from 'tracklet'` plus a call of each, returns the minified code. */
const bundle = async (names: string[]): Promise<string> => {
  const captures = names.filter((name) => name != 'init');
  const result = await build({
    stdin: {
      contents: `import { init, ${captures.join(', ')} } from './dist/npm/index.js';
        init({ endpoint: '/c', site: 's', capture: [${captures.map((name) => name + '()').join(', ')}] });`,
      resolveDir: ROOT,
    },
    bundle: true,
    minify: true,
    format: 'esm',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
};

/** A string only each capture's code (or web-vitals) contains. */
const MARKERS: Record<string, string> = {
  vitals: 'largest-contentful-paint',
  errors: 'unhandledrejection',
  clicks: 'data-tracklet-event',
  engagement: 'pointermove',
};

describe('npm build tree-shaking', () => {
  it.each([
    [[]],
    [['errors']],
    [['vitals']],
    [['clicks', 'engagement']],
    [['vitals', 'errors', 'clicks', 'engagement']],
  ])('an app importing %j gets those captures and no other', async (imported: string[]) => {
    const code = await bundle(imported);
    for (const [name, marker] of Object.entries(MARKERS))
      expect(code.includes(marker), name).toBe(imported.includes(name));
  });
});
