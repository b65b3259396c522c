import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// Built by `node build.mjs`, as every browser test expects.
const DIST = resolve(import.meta.dirname, '../../dist');
const HINT = '//# allFunctionsCalledOnLoad';

describe('the compile hint', () => {
  it('opens the first file, whose code follows unchanged', () => {
    const [first, ...rest] = readFileSync(`${DIST}/tracklet.js`, 'utf8').split('\n');
    expect(first).toBe(HINT);
    expect(rest.join('\n')).toMatch(/^"use strict";\(\(\)=>\{/);
  });

  it('is in no other file: they load after the page, when nothing waits for them', () => {
    for (const name of ['tracklet.debug', 'tracklet.captures', 'tracklet.marketing'])
      expect(readFileSync(`${DIST}/${name}.js`, 'utf8')).not.toContain(HINT);
  });
});
