// `npm run bench`: builds Tracklet, then measures it side by side with its peers in one run and
// writes bench/results/ (results.md, results.json, chart.png). Not part of `npm test`: it prints
// figures, it does not assert them. BENCH_REPS=n sets the browser repetitions (default 3).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { measureBrowser } from './lib/browser.mjs';
import { ROOT } from './lib/bundle.mjs';
import { chartHtml, renderChart } from './lib/chart.mjs';
import { measureRelay } from './lib/relay.mjs';
import { markdown, peerWins, summarise } from './lib/report.mjs';
import { measureSizes } from './lib/sizes.mjs';

/** The README's "Performance" section, rewritten with every run's table (between its two markers). */
const performanceDoc = (md) => `## Performance

Tracklet's claim is "smaller and faster than every peer". \`npm run bench\` checks it: one run builds
Tracklet and the pinned peer packages with the same esbuild settings, measures bytes, main-thread
cost in Chromium, network per visit and the relay's ingest rate, and writes \`bench/results/\`
(results.md, results.json, chart.png). It takes under 10 minutes on 2 cores and needs only
\`/usr/bin/chromium\`; nothing leaves the machine. \`BENCH_REPS=5 npm run bench\` repeats the browser runs
more often (default 3). The peers' versions are pinned in package.json. The latest run:

![Tracklet and peers](bench/results/chart.png)

${md.replace(/^### /gm, '#### ')}`;

const started = Date.now();
process.chdir(ROOT);
execFileSync(process.execPath, ['build.mjs'], { stdio: 'inherit' });

const machine = {
  date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  nproc: Number(execFileSync('nproc').toString().trim()),
  cpu: /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] || cpus()[0]?.model || '?',
  chromium: execFileSync(process.env.CHROMIUM_PATH || '/usr/bin/chromium', ['--version'], { stderr: 'ignore' }).toString().trim().replace(/ built on.*/, ''),
  node: process.version,
};

console.log('bench: sizes');
const sizes = await measureSizes();
console.log('bench: main thread and network in Chromium (a few minutes)');
const browser = process.env.BENCH_SKIP_BROWSER ? undefined : await measureBrowser({ reps: Number(process.env.BENCH_REPS) || 3 });
const summaries = browser ? summarise(browser) : {};
console.log('bench: relay');
const relay = await measureRelay();

const notes = [
  'Peers are the npm packages pinned in package.json, each bundled for a minimal equivalent usage (bench/entries/): auto pageview, one custom event, and vitals/errors where the package offers them. All were pointed at a local collector on 127.0.0.1; requests to any other host were aborted and are counted as tried.',
  'Tracklet script tag sizes are of the code without its trailing source-map comment, like every other row. "capture off" rows are throwaway builds of src/script.ts with that capture module stubbed out.',
  'web-vitals is the version Tracklet ships, with a minimal sendBeacon reporter: the floor any tracker that reports vitals pays. It is not a tracker and is left out of the comparison.',
  'Snowplow: @snowplow/browser-plugin-error-tracking is at 4.3.1 and requires the same tracker version, so the tracker is pinned to 4.3.1; no web-vitals plugin is published for it.',
  'PostHog runs with its defaults except remote config, flags, surveys, session recording and external script loading, which are off (they would reach its servers); its web-vitals and exception extensions are bundled. Its default client-side rate limit drops part of a 1,000-event burst.',
  'Segment and Snowplow send no SPA pageview on their own: the visit calls their page() / trackPageView() after each navigation, as an app would.',
  "The browser's user agent is a regular Chrome one (headless Chromium's \"HeadlessChrome\" makes some trackers drop every event as a bot).",
  '"track + flush" is Chromium\'s main-thread task time (CDP Performance.getMetrics TaskDuration) from the first track() until the last request went out or 6 s passed; "delivered" is the share of the events the collector received in that time (over 100 % means duplicates). The calls are made in chunks of 50, each timed until the next task (so work deferred to microtasks counts); a tracker still busy after 5 s is measured on the calls made so far, scaled to 1,000.',
  ...new Set(browser ? browser.trackers.filter((t) => t.note).map((t) => t.note) : []),
  'Numbers move on a shared machine (2 cores shared with other work during this run): compare medians and ratios, not single runs.',
];

const seconds = (Date.now() - started) / 1000;
const results = { machine, sizes, browser, summaries, relay, seconds };
results.wins = peerWins(results);
results.notes = notes;
const md = markdown(results);
const dir = resolve(ROOT, 'bench/results');
mkdirSync(dir, { recursive: true });
writeFileSync(resolve(dir, 'results.json'), JSON.stringify(results, null, 2) + '\n');
writeFileSync(resolve(dir, 'results.md'), '# Benchmarks\n\n' + md);
await renderChart(chartHtml(results), resolve(dir, 'chart.png'));
const readme = readFileSync(resolve(ROOT, 'README.md'), 'utf8');
const [start, end] = ['<!-- performance:start -->', '<!-- performance:end -->'];
if (readme.includes(start) && readme.includes(end))
  writeFileSync(
    resolve(ROOT, 'README.md'),
    readme.slice(0, readme.indexOf(start) + start.length) + '\n' + performanceDoc(md) + '\n' + readme.slice(readme.indexOf(end)),
  );
else console.warn('bench: README.md has no performance markers; the table is in bench/results/results.md');
console.log('\n' + md);
console.log(`bench: wrote bench/results/results.md, results.json and chart.png in ${Math.round((Date.now() - started) / 1000)} s`);
