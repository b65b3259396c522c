// `npm run bench`: builds Tracklet, then measures it side by side with its peers in one run and
// writes bench/results/ (results.json, chart.png) and docs/benchmarks.md. Not part of `npm test`: it prints
// figures, it does not assert them. BENCH_REPS=n sets the browser repetitions (default 3),
// BENCH_DELIVERY_REPS=n those of the slower delivery part (default 1), BENCH_ONLY=a,b
// limits the browser part to those tracker ids, BENCH_RELAY_SECONDS=n the relay load (default 8),
// BENCH_RELAY_ROUNDS=n the rounds of floor and relays (default 1; medians shown). The relay part alone:
// bench/relay-floor.mjs. BENCH_STARTUP_REPS=n sets the traced loads per tracker for the start-up figures
// (default 7: the browser repetitions, then start-up-only rounds); BENCH_SKIP_RELAY=1 skips the relay part.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { measureBrowser, tagFiles } from './lib/browser.mjs';
import { ROOT } from './lib/bundle.mjs';
import { chartHtml, renderChart } from './lib/chart.mjs';
import { measureRelayVsFloor } from './lib/relay.mjs';
import { PAGE, writeBenchmarksPage } from './lib/page.mjs';
import { markdown, peerWins, summarise } from './lib/report.mjs';
import { guessTagFiles, measureSizes } from './lib/sizes.mjs';

const started = Date.now();
/**
 * The browser rounds stop starting once the next would end later than this after the start, so that
 * the visits, the relay part and the chart (about 4 minutes on a busy 2-core machine) still fit in
 * 15 minutes; the tables say how many rounds ran.
 */
const ROUNDS_BUDGET_MS = Number(process.env.BENCH_ROUNDS_MINUTES || 10) * 60_000;
process.chdir(ROOT);
execFileSync(process.execPath, ['build.mjs'], { stdio: 'inherit' });

const machine = {
  date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  nproc: Number(execFileSync('nproc').toString().trim()),
  cpu:
    /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ||
    cpus()[0]?.model ||
    '?',
  chromium: execFileSync(process.env.CHROMIUM_PATH || '/usr/bin/chromium', ['--version'], {
    stderr: 'ignore',
  })
    .toString()
    .trim()
    .replace(/ built on.*/, ''),
  node: process.version,
};

const skipBrowser = Boolean(process.env.BENCH_SKIP_BROWSER);
console.log('bench: sizes');
// The files the script tag loads, as Chromium fetches them (a later file is found only by loading the tag).
const files = skipBrowser ? guessTagFiles() : await tagFiles();
const sizes = await measureSizes(files);
console.log(`bench: the script tag loads ${files.join(', ')}`);
console.log('bench: start-up, calls and network in Chromium (several minutes)');
const browser = skipBrowser
  ? undefined
  : await measureBrowser({
      reps: Number(process.env.BENCH_REPS) || 3,
      startupReps: Number(process.env.BENCH_STARTUP_REPS) || 7,
      deliveryReps: Number(process.env.BENCH_DELIVERY_REPS) || 1,
      roundsUntil: started + ROUNDS_BUDGET_MS,
      only: process.env.BENCH_ONLY?.split(','),
      files,
    });
const summaries = browser ? summarise(browser) : {};
const skipRelay = Boolean(process.env.BENCH_SKIP_RELAY);
if (!skipRelay) console.log('bench: relay against the floor');
const relay = skipRelay
  ? { unavailable: 'skipped (BENCH_SKIP_RELAY)' }
  : await measureRelayVsFloor();

const notes = [
  'Peers are the npm packages pinned in package.json, each bundled for a minimal equivalent ' +
    'usage (bench/entries/): auto pageview, one custom event, and ' +
    'vitals/errors where the package offers them. All were pointed at a local collector on ' +
    '127.0.0.1; requests to any other host were aborted and are counted as tried.',
  'Umami is not compared: no npm package ships its browser tracker on its own. The only one that ' +
    'carries the tracker source, `umami` 2.10.0, is the whole Umami server application ' +
    '(54 runtime dependencies, Next.js and Prisma among them, with peer ranges that conflict ' +
    "with this project's), too heavy to pin as a development dependency for one file.",
  `Every tracker is loaded by a plain <script src> from the bench server, in the same page. The ` +
    `Tracklet script tag is what \`node build.mjs\` left in dist/ with every file it loads ` +
    `(this run: ` +
    `${files.map((f) => f.replace('dist/', '')).join(', ')}); sizes are of each file without its ` +
    `trailing source-map comment, each compressed on its own (each travels on its own) and ` +
    `summed.`,
  '"Script time to start" is, from a Chromium trace (DevTools timeline) of the page load at 4× ' +
    "CPU throttle, the main-thread time of the tracker's own script: compiling and running " +
    'its files (EvaluateScript) and every callback into them (FunctionCall), from its first ' +
    "file until its first request leaves or the page's load event has run, whichever comes " +
    "first (every tracker here has queued its first pageview by then). The page's own calls " +
    "(Tracklet's `tracklet.track(…)` line) are served as a file and count as the " +
    'tracker\'s. "Script after start" is the tracker\'s script time after that, until the ' +
    'trace ends (1–6 s after load, when its files stop arriving): files loaded later, idle ' +
    'work, timers.',
  '"1,000 track() in one task" is performance.now() around one synchronous loop of 1,000 calls ' +
    'in the traced page once its files stopped arriving (1 s or more ' +
    'after load), 4× throttle; "3,000 … no throttle" the same with 3,000 calls in a fresh ' +
    'page without throttle. A loop still running after 2 s stops and is scaled.',
  'web-vitals is the version Tracklet ships, with a minimal sendBeacon reporter: the floor any ' +
    'tracker that reports vitals pays. It is not a tracker and is left out of the comparison.',
  'Snowplow: @snowplow/browser-plugin-error-tracking is at 4.3.1 and requires the same tracker ' +
    'version, so the tracker is pinned to 4.3.1; no web-vitals plugin is published for it.',
  'PostHog runs with its defaults except remote config, flags, surveys, session recording and ' +
    'external script loading, which are off (they would ' +
    'reach its servers); its web-vitals and exception extensions are bundled. Its default ' +
    'client-side rate limit drops part of a 1,000-event burst.',
  'Segment and Snowplow send no SPA pageview on their own: the visit calls ' +
    'their page() / trackPageView() after each navigation, as an app would.',
  "The browser's user agent is a regular Chrome one (headless Chromium's " +
    '"HeadlessChrome" makes some trackers drop every event as a bot).',
  '"track + flush" is Chromium\'s main-thread task time (CDP Performance.getMetrics ' +
    'TaskDuration) from the first track() until the last request went out or 6 s passed; ' +
    '"delivered" is the share of the events the collector received in that ' +
    'time (over 100 % means duplicates). The calls are made in chunks of 50, each timed until ' +
    'the next task (so work deferred to microtasks counts); a tracker still busy after 5 s ' +
    'is measured on the calls made so far, scaled to 1,000.',
  'Relay against the floor: each target runs in its own process on 127.0.0.1 under the same load ' +
    'from autocannon in this process: unique 20-event batches (wire format v1), 10 ' +
    'connections, a fixed time each. The floor (bench/lib/floor-server.mjs) is node:http + ' +
    'JSON.parse + one better-sqlite3 WAL transaction per body inserting each event and two ' +
    'queue rows, nothing else. The relay is `tracklet-relay` (dist/relay/cli.js) with two ' +
    'webhook destinations answered at once by a local sink, so delivery runs during the load; ' +
    '"at the ' +
    'sink" counts the distinct events each destination received, and "missing" the accepted ' +
    '(2xx) events that did not arrive within 60 s of the end of the load. PostgreSQL is a ' +
    'throwaway PostgreSQL 15 server (fsync on) started for the run and removed after. "CPU ' +
    'µs / event" is the target process\'s user + system CPU from the start of the load ' +
    "until the sink had every accepted event (ingest and delivery; PostgreSQL's own CPU not " +
    'included), per accepted event: it moves far less than events/s when other work shares ' +
    'the machine.',
  ...new Set(browser ? browser.trackers.filter((t) => t.note).map((t) => t.note) : []),
  'Numbers move on a shared machine (2 cores shared with other work ' +
    'during this run): compare medians and ratios, not single runs.',
];

const seconds = (Date.now() - started) / 1000;
const results = { machine, sizes, browser, summaries, relay, seconds };
results.wins = peerWins(results);
results.notes = notes;
const md = markdown(results);
const dir = resolve(ROOT, 'bench/results');
mkdirSync(dir, { recursive: true });
writeFileSync(resolve(dir, 'results.json'), JSON.stringify(results, null, 2) + '\n');
await renderChart(chartHtml(results), resolve(dir, 'chart.png'));
// The one page that states these figures; the other docs link to it.
writeBenchmarksPage(results);
console.log('\n' + md);
console.log(
  `bench: wrote bench/results/results.json, chart.png and ${PAGE} in ${Math.round((Date.now() - started) / 1000)} s`,
);
