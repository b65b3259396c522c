// `node bench/page.mjs`: writes docs/benchmarks.md again from bench/results/results.json (the last
// run's stored results), e.g. after a change to the page's text, without measuring again.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ROOT } from './lib/bundle.mjs';
import { PAGE, writeBenchmarksPage } from './lib/page.mjs';

writeBenchmarksPage(JSON.parse(readFileSync(resolve(ROOT, 'bench/results/results.json'), 'utf8')));
console.log(`bench: wrote ${PAGE} from bench/results/results.json`);
