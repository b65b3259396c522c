// Parts 2 and 3: main-thread cost and network of each tracker in Debian's Chromium, 4x CPU throttle.
// Every tracker is a script file served by the bench server and loaded by a plain <script src> in the
// same page; Tracklet's script tag is whatever `node build.mjs` left in dist/, with every file it loads.
import { readdirSync, readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { bundle } from './bundle.mjs';
import { PEERS, TRACKLET_NPM } from './peers.mjs';
import { startBenchServer } from './server.mjs';
import { startupFromTrace } from './trace.mjs';

const THROTTLE = 4;
const EVENTS = 1000;
/** How long a tracker gets to deliver the 1,000 events after flush() before the run moves on. */
const DELIVERY_WINDOW = 6_000;
/** Wall time a tracker gets for its 1,000 track() calls; a slower one is measured on fewer and scaled. */
const TRACK_BUDGET = 5_000;
/** The same for the calls made in one task (their figure is a rate, so fewer calls lose little). */
const TASK_BUDGET = 2_000;
const CHUNK = 50;
/** Calls made in one task: 1,000 at the throttle, 3,000 without it (each bounded by TASK_BUDGET and scaled). */
const TASK_CALLS = 1000;
const UNTHROTTLED_CALLS = 3000;
/** Trace categories for the start-up figure: Chromium's timeline (what DevTools' Performance panel records). */
const TRACE_CATEGORIES = ['devtools.timeline'];
const USER_AGENT =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';

/** Launched as test/browser/fixture.ts launches it, plus a resolver rule so no name resolves to the internet. */
const launch = () =>
  chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    ignoreDefaultArgs: ['--disable-back-forward-cache'],
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
      // A visitor's browser, not an automated one: some trackers drop events from automation.
      '--disable-blink-features=AutomationControlled',
    ],
  });

/** Every script file of dist/ (the script tag's files), served under /dist/ as a site would serve them. */
const distFiles = () =>
  readdirSync('dist')
    .filter((name) => name.endsWith('.js'))
    .map((name) => ['/dist/' + name, readFileSync('dist/' + name, 'utf8')]);

/**
 * The trackers run in the browser: Tracklet's script tag and npm build, then every peer. Each has a
 * `src` (the file its <script> tag loads), `page` (what the page itself writes after it, served as a
 * file too, so that the page's own calls count as the tracker's script time) and `owns(path)`: which
 * script files are the tracker's.
 */
const trackers = async () => {
  const list = [
    {
      id: 'tracklet',
      label: 'Tracklet script tag',
      tracks: true,
      src: '/dist/tracklet.js',
      attrs: ' data-endpoint="/collect" data-site="bench" data-include-local="true"',
      // What a page using the tag writes: the one custom event, and the harness's handle on the API.
      page: "tracklet.track('signup',{plan:'pro'});window.bench={track:tracklet.track,flush:tracklet.flush};",
      owns: (path) => path.startsWith('/dist/') || path == '/t/tracklet-page.js',
    },
    {
      ...TRACKLET_NPM,
      label: 'Tracklet npm',
      code: new TextDecoder().decode(await bundle(TRACKLET_NPM.entry, { bench: true })),
    },
  ];
  for (const peer of PEERS)
    list.push({
      ...peer,
      code: new TextDecoder().decode(
        await bundle(peer.entry, { bench: true, splitDynamic: peer.splitDynamic }),
      ),
    });
  for (const tracker of list) {
    tracker.src ??= `/t/${tracker.id}.js`;
    tracker.owns ??= (path) => path == tracker.src;
  }
  return list;
};

/** The identical page every tracker is measured on: its script tag, then the page's own calls. */
const pageFor = (tracker) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>Bench page</title>
<script>window.__lt=[];new PerformanceObserver(function(l){l.getEntries().forEach(` +
  `function(e){__lt.push(e.duration)})}).observe({type:'longtask'})</script>
<script src="${tracker.src}"${tracker.attrs || ''}></script>
${tracker.page ? `<script src="/t/${tracker.id}-page.js"></script>` : ''}
</head><body><main><h1>Bench page</h1>` +
  `${'<p>Some text of an article, long enough to be the largest paint. </p>'.repeat(20)}<button ` +
  `id="cta">Sign up</button></main></body></html>`;

/** Serves the pages and script files of every tracker. */
const serve = (server, list) => {
  for (const [path, code] of distFiles()) server.file(path, code);
  server.page('/bye', '<!doctype html><title>Bye</title><p>Bye');
  for (const tracker of list) {
    if (tracker.code) server.file(tracker.src, tracker.code);
    if (tracker.page) server.file(`/t/${tracker.id}-page.js`, tracker.page);
    server.page(`/p/${tracker.id}`, pageFor(tracker));
  }
};

/** A fresh context whose requests to anywhere but the bench server are aborted and counted. */
const openPage = async (browser, server, { throttle = THROTTLE, route = true } = {}) => {
  // Headless Chromium says "HeadlessChrome" in its user agent, which some trackers filter as a bot.
  const context = await browser.newContext({ userAgent: USER_AGENT });
  const blocked = [];
  // Without the route, the resolver rule of launch() still keeps every other host unreachable; the
  // route only counts the attempts (and intercepting requests could hold back beacons sent as a tab closes).
  if (route)
    await context.route(
      (url) => url.origin != server.origin,
      (route) => {
        blocked.push(route.request().url());
        return route.abort('blockedbyclient');
      },
    );
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: throttle });
  await cdp.send('Performance.enable');
  const metrics = async () => {
    const { metrics } = await cdp.send('Performance.getMetrics');
    const get = (name) => (metrics.find((m) => m.name == name)?.value || 0) * 1000;
    return { script: get('ScriptDuration'), task: get('TaskDuration') };
  };
  return { context, page, blocked, metrics };
};

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/**
 * Waits until the server holds `marks` benchmark events, or nothing arrived for `idle` ms
 * (DELIVERY_WINDOW at most).
 */
const settle = async (server, marks, idle = 3500) => {
  const end = Date.now() + DELIVERY_WINDOW;
  let count = server.requests.length;
  let since = Date.now();
  while (Date.now() < end && server.marks() < marks) {
    await sleep(100);
    if (server.requests.length != count) ((count = server.requests.length), (since = Date.now()));
    else if (Date.now() - since > idle) break;
  }
};

/**
 * Waits, bounded, until the tracker's files stop arriving (the tag may load more files after `load`)
 * and every file of `tracker.expect` (the tag's files, found beforehand) has been fetched.
 */
const quiet = async (server, tracker, { min = 1500, max = 6000, idle = 1000 } = {}) => {
  const start = Date.now();
  const fetched = () => [
    ...new Set(server.fetched.map((f) => f.path).filter((path) => tracker.owns(path))),
  ];
  const missing = () => (tracker.expect || []).some((path) => !fetched().includes(path));
  await sleep(min);
  let count = server.fetched.length;
  let since = Date.now();
  while (Date.now() - start < max && (Date.now() - since < idle || missing())) {
    await sleep(100);
    if (server.fetched.length != count) ((count = server.fetched.length), (since = Date.now()));
  }
  return fetched();
};

/** `n` calls of track() in one task, stopped after TASK_BUDGET and scaled to `n` when slower. */
const oneTask = (page, n, name) =>
  page.evaluate(
    ([n, name, budget]) => {
      const t = performance.now();
      let calls = 0;
      while (calls < n) {
        window.bench.track(name, { i: calls, plan: 'pro' });
        calls++;
        if (calls % 16 == 0 && performance.now() - t > budget) break;
      }
      return { ms: ((performance.now() - t) * n) / calls, calls };
    },
    [n, name, TASK_BUDGET],
  );

/**
 * A traced load of the tracker's page at the throttle, in the fresh page `opened`: the start-up
 * figures (trace), blocking time and long tasks, and the script time until load (CDP metrics).
 */
const tracedLoad = async (browser, server, tracker, opened) => {
  const run = {};
  await browser.startTracing(opened.page, { categories: TRACE_CATEGORIES });
  let trace;
  try {
    await opened.page.goto(`${server.origin}/p/${tracker.id}`, { waitUntil: 'load' });
    // Time for what a tracker defers past the load event (timers, idle callbacks, later files) to run and count.
    run.files = await quiet(server, tracker, { min: 1000 });
  } finally {
    trace = await browser.stopTracing();
  }
  Object.assign(
    run,
    startupFromTrace(JSON.parse(trace.toString('utf8')).traceEvents, tracker, server.origin),
  );
  const loaded = await opened.metrics();
  return Object.assign(
    run,
    await opened.page.evaluate(() => ({
      tbt: window.__lt.reduce((sum, d) => sum + Math.max(0, d - 50), 0),
      longTasks: window.__lt.length,
    })),
    { loadScript: loaded.script, blocked: opened.blocked.length },
  );
};

/** A start-up-only run: the traced load alone, in a fresh page (cheap, so the start-up figure gets more). */
const startupRun = async (browser, server, tracker) => {
  server.clear();
  const opened = await openPage(browser, server);
  try {
    return await tracedLoad(browser, server, tracker, opened);
  } finally {
    await opened.context.close();
  }
};

/**
 * One run of one tracker, in three fresh pages: a traced load at the throttle (start-up, then 1,000
 * track() calls in one task); a load without throttle (3,000 calls in one task); and, with
 * `delivery`, a load at the throttle for 1,000 calls in chunks followed by flush, until delivered or quiet.
 */
const mainThreadRun = async (browser, server, tracker, { delivery = true } = {}) => {
  server.clear();
  const began = Date.now();
  let run = {};
  let opened = await openPage(browser, server);
  try {
    run = await tracedLoad(browser, server, tracker, opened);
    if (!tracker.tracks) return Object.assign(run, { wallMs: Date.now() - began });
    const task = await oneTask(opened.page, TASK_CALLS, 'bench_task');
    run.task = task.ms;
    run.taskCalls = task.calls;
  } finally {
    await opened.context.close();
  }
  opened = await openPage(browser, server, { throttle: 1 });
  try {
    await opened.page.goto(`${server.origin}/p/${tracker.id}`, { waitUntil: 'load' });
    await sleep(500);
    const task = await oneTask(opened.page, UNTHROTTLED_CALLS, 'bench_task');
    run.task3000 = task.ms;
    run.task3000Calls = task.calls;
  } finally {
    await opened.context.close();
  }
  // Wall time of the run without its delivery part: what a later round will take.
  run.wallMs = Date.now() - began;
  if (!delivery) return run;
  server.clear();
  const { context, page, metrics } = await openPage(browser, server);
  try {
    await page.goto(`${server.origin}/p/${tracker.id}`, { waitUntil: 'load' });
    await sleep(1000);
    server.clear();
    const before = await metrics();
    const start = Date.now();
    // In chunks of 50, each timed up to the next task so that work a tracker defers to
    // microtasks counts; a tracker still busy after TRACK_BUDGET is stopped and extrapolated.
    let calls = 0;
    run.track = 0;
    while (calls < EVENTS && Date.now() - start < TRACK_BUDGET) {
      run.track += await page.evaluate(
        async ([from, n]) => {
          const t = performance.now();
          for (let i = from; i < from + n; i++)
            window.bench.track('bench_event', { i, plan: 'pro' });
          await new Promise((done) => setTimeout(done));
          return performance.now() - t;
        },
        [calls, CHUNK],
      );
      calls += CHUNK;
    }
    const flushed = Date.now();
    await page.evaluate(() => window.bench.flush && window.bench.flush());
    await settle(server, calls);
    const after = await metrics();
    const last = server.requests.at(-1);
    const scale = EVENTS / calls;
    run.calls = calls;
    run.track *= scale;
    run.deliveryWall = last ? Math.max(0, last.at - flushed) : 0;
    // Main-thread busy time from the first track() until the last request went out (or the
    // delivery window closed): serialising, queueing and handing the events to the network.
    run.trackFlush = (after.task - before.task) * scale;
    run.delivered = server.marks() / calls;
    run.requests = server.requests.length * scale;
    return run;
  } finally {
    await context.close();
  }
};

/** The scripted visit of part 3; returns what the tracker sent (and tried to send elsewhere). */
const visit = async (browser, server, tracker) => {
  server.clear();
  const { context, page, blocked } = await openPage(browser, server);
  try {
    await page.goto(
      `${server.origin}/p/${tracker.id}/landing?utm_source=newsletter&utm_medium=email&utm_campaign=spring`,
      { waitUntil: 'load' },
    );
    await sleep(1000);
    for (let n = 1; n <= 3; n++) {
      await page.evaluate((n) => {
        history.pushState({}, '', `/p/${location.pathname.split('/')[2]}/page-${n}`);
        document.title = `Page ${n}`;
        window.bench.navigated?.();
      }, n);
      await sleep(300);
    }
    if (tracker.tracks)
      for (let n = 1; n <= 5; n++)
        await page.evaluate((n) => window.bench.track('cta_click', { n }), n);
    await page.evaluate(() =>
      setTimeout(() => {
        throw new Error('bench error');
      }),
    );
    await page.click('#cta').catch(() => {});
    await sleep(1000);
    // Page hide: leaving the page fires visibilitychange and pagehide, the trackers' last chance.
    await page.goto(`${server.origin}/bye`, { waitUntil: 'load' });
    await sleep(2000);
    return {
      ...sent(server),
      blocked: blocked.length,
      blockedUrls: [...new Set(blocked.map((u) => u.replace(/\?.*/, '')))],
    };
  } finally {
    await context.close();
  }
};

/** What the server received in a visit: requests (no CORS preflights), bytes of bodies + URLs. */
const sent = (server) => {
  const requests = server.requests.filter((r) => r.method != 'OPTIONS');
  return {
    requests: requests.length,
    preflights: server.requests.length - requests.length,
    bytes: server.requests.reduce((sum, r) => sum + r.bytes, 0),
  };
};

/**
 * The visit of issue #17's table: load, 10 custom events, one SPA navigation, close the tab. Counts
 * every request the tracker sent (bodies + URLs), the beacons of the closing tab included.
 */
const shortVisit = async (browser, server, tracker) => {
  server.clear();
  const { context, page } = await openPage(browser, server, { route: false });
  try {
    await page.goto(`${server.origin}/p/${tracker.id}/landing`, { waitUntil: 'load' });
    await sleep(800);
    if (tracker.tracks)
      for (let n = 1; n <= 10; n++)
        await page.evaluate((n) => window.bench.track('cta_click', { n }), n);
    await page.evaluate(() => {
      history.pushState({}, '', `/p/${location.pathname.split('/')[2]}/next`);
      document.title = 'Next';
      window.bench.navigated?.();
    });
    await sleep(800);
    // Closing the tab fires visibilitychange and pagehide: the trackers' last chance to send.
    await page.close({ runBeforeUnload: true });
    await sleep(2000);
    return sent(server);
  } finally {
    await context.close();
  }
};

/** Loads the script tag's page without throttle and lists the files of dist/ it fetched (the first one first). */
export const tagFiles = async () => {
  const server = await startBenchServer();
  const browser = await launch();
  try {
    const tag = (await trackers()).find((t) => t.id == 'tracklet');
    serve(server, [tag]);
    const { context, page } = await openPage(browser, server, { throttle: 1 });
    try {
      await page.goto(`${server.origin}/p/tracklet`, { waitUntil: 'load' });
      return (await quiet(server, tag, { min: 1000, max: 6000, idle: 1500 }))
        .filter((path) => path.startsWith('/dist/'))
        .map((path) => path.slice(1));
    } finally {
      await context.close();
    }
  } finally {
    await browser.close();
    await server.close();
  }
};

/**
 * Runs every tracker `reps` times, alternating (round-robin, order rotated each round) so that a
 * slow spell of the shared machine hits all of them alike; the slow delivery part (1,000 calls in
 * chunks, flush, wait for delivery) only in the first `deliveryReps` rounds; then start-up-only
 * rounds (a traced load each, alternating the same way) until each tracker has `startupReps` traced
 * loads; then the two scripted visits each.
 */
export const measureBrowser = async ({
  reps = 3,
  startupReps = reps,
  deliveryReps = 1,
  roundsUntil = Infinity,
  only,
  files = [],
  log = console.log,
} = {}) => {
  const list = (await trackers()).filter((t) => !only || only.includes(t.id));
  // The tag's page is traced until every file it loads has arrived (`files`: what tagFiles() found).
  for (const tracker of list)
    if (tracker.id == 'tracklet') tracker.expect = files.map((file) => '/' + file);
  const server = await startBenchServer();
  serve(server, list);
  const browser = await launch();
  const runs = Object.fromEntries(list.map((t) => [t.id, []]));
  const visits = {};
  const shortVisits = {};
  try {
    // A warm-up load, discarded: the first page of a fresh browser pays for starting it.
    await mainThreadRun(browser, server, { ...list[0], tracks: false });
    let done = 0;
    let roundMs = 0;
    for (let rep = 0; rep < reps; rep++) {
      // On a busy machine the bench keeps to its time: no round that would end past `roundsUntil`.
      if (rep > 0 && Date.now() + roundMs > roundsUntil) {
        log(`bench: ${rep} of ${reps} rounds, the next would end past the bench's time budget`);
        break;
      }
      const roundStart = Date.now();
      const order = list.map((_, i) => list[(i + rep) % list.length]);
      for (const tracker of order)
        runs[tracker.id].push(
          await mainThreadRun(browser, server, tracker, { delivery: rep < deliveryReps }),
        );
      log(
        `bench: browser round ${rep + 1}/${reps} done in ${Math.round((Date.now() - roundStart) / 1000)} s`,
      );
      done++;
      // The next round's length, as this one's without the delivery part (which runs in the first rounds only).
      roundMs =
        list.reduce((sum, t) => sum + (runs[t.id].at(-1).wallMs || 0), 0) +
        (rep + 1 < deliveryReps ? Date.now() - roundStart : 0);
    }
    // The start-up figure moves most between loads and a traced load is cheap: more of them, so
    // that its median is steadier. Their runs carry the start-up figures only.
    let startups = done;
    for (let rep = done; rep < startupReps && Date.now() < roundsUntil; rep++, startups++)
      for (const tracker of list.map((_, i) => list[(i + rep) % list.length]))
        runs[tracker.id].push(await startupRun(browser, server, tracker));
    if (startups > done) log(`bench: ${startups - done} start-up-only rounds done`);
    for (const tracker of list) {
      visits[tracker.id] = await visit(browser, server, tracker);
      shortVisits[tracker.id] = await shortVisit(browser, server, tracker);
    }
    const version = browser.version();
    return {
      version,
      throttle: THROTTLE,
      events: EVENTS,
      reps: done,
      startupReps: startups,
      deliveryReps: Math.min(deliveryReps, done),
      trackers: list.map(({ id, label, tracks, note, partial }) => ({
        id,
        label,
        tracks,
        note,
        partial,
      })),
      runs,
      visits,
      shortVisits,
    };
  } finally {
    await browser.close();
    await server.close();
  }
};
