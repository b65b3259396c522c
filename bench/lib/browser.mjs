// Parts 2 and 3: main-thread cost and network of each tracker in Debian's Chromium, 4x CPU throttle.
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { bundle } from './bundle.mjs';
import { PEERS, TRACKLET_NPM } from './peers.mjs';
import { startBenchServer } from './server.mjs';

const THROTTLE = 4;
const EVENTS = 1000;
/** How long a tracker gets to deliver the 1,000 events after flush() before the run moves on. */
const DELIVERY_WINDOW = 6_000;
/** Wall time a tracker gets for its 1,000 track() calls; a slower one is measured on fewer and scaled. */
const TRACK_BUDGET = 5_000;
const CHUNK = 50;
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

/** The trackers run in the browser: Tracklet's script tag and npm build, then every peer. */
const trackers = async () => {
  const tag = readFileSync('dist/tracklet.js', 'utf8').replace(/\n\/\/# sourceMappingURL=.*\s*$/, '\n');
  const list = [
    {
      id: 'tracklet',
      label: 'Tracklet script tag',
      tracks: true,
      attrs: ' data-endpoint="/collect" data-site="bench" data-include-local="true"',
      code: tag,
      // What a page using the tag writes: the one custom event, and the harness's handle on the API.
      after: "tracklet.track('signup',{plan:'pro'});window.bench={track:tracklet.track,flush:tracklet.flush};",
    },
    { ...TRACKLET_NPM, label: 'Tracklet npm', code: new TextDecoder().decode(await bundle(TRACKLET_NPM.entry, { bench: true })) },
  ];
  for (const peer of PEERS) list.push({ ...peer, code: new TextDecoder().decode(await bundle(peer.entry, { bench: true })) });
  return list;
};

/** The identical page every tracker is measured on; `</script` inside a bundle is escaped. */
const pageFor = (tracker) => `<!doctype html><html><head><meta charset="utf-8"><title>Bench page</title>
<script>window.__lt=[];new PerformanceObserver(function(l){l.getEntries().forEach(function(e){__lt.push(e.duration)})}).observe({type:'longtask'});window.__t0=performance.now()</script>
<script${tracker.attrs || ''}>${tracker.code.replace(/<\/script/gi, '<\\/script')}</script>
<script>${tracker.after || ''}window.__t1=performance.now()</script>
</head><body><main><h1>Bench page</h1>${'<p>Some text of an article, long enough to be the largest paint. </p>'.repeat(20)}<button id="cta">Sign up</button></main></body></html>`;

/** A fresh context whose requests to anywhere but the bench server are aborted and counted. */
const openPage = async (browser, server) => {
  // Headless Chromium says "HeadlessChrome" in its user agent, which some trackers filter as a bot.
  const context = await browser.newContext({ userAgent: USER_AGENT });
  const blocked = [];
  await context.route(
    (url) => url.origin != server.origin,
    (route) => {
      blocked.push(route.request().url());
      return route.abort('blockedbyclient');
    },
  );
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: THROTTLE });
  await cdp.send('Performance.enable');
  const metrics = async () => {
    const { metrics } = await cdp.send('Performance.getMetrics');
    const get = (name) => (metrics.find((m) => m.name == name)?.value || 0) * 1000;
    return { script: get('ScriptDuration'), task: get('TaskDuration') };
  };
  return { context, page, blocked, metrics };
};

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** Waits until the server holds `marks` benchmark events, or nothing arrived for `idle` ms (DELIVERY_WINDOW at most). */
const settle = async (server, marks, idle = 3500) => {
  const end = Date.now() + DELIVERY_WINDOW;
  let count = server.requests.length;
  let since = Date.now();
  while (Date.now() < end && server.marks() < marks) {
    await sleep(100);
    if (server.requests.length != count) (count = server.requests.length), (since = Date.now());
    else if (Date.now() - since > idle) break;
  }
};

/** One run of one tracker: load, settle, 1,000 track() calls, flush until delivered or quiet. */
const mainThreadRun = async (browser, server, tracker) => {
  server.clear();
  const { context, page, blocked, metrics } = await openPage(browser, server);
  try {
    await page.goto(`${server.origin}/p/${tracker.id}`, { waitUntil: 'load' });
    // Time for what a tracker defers past the load event (timers, idle callbacks) to run and count.
    await sleep(1500);
    const loaded = await metrics();
    const run = await page.evaluate(() => ({
      evalInit: window.__t1 - window.__t0,
      tbt: window.__lt.reduce((sum, d) => sum + Math.max(0, d - 50), 0),
      longTasks: window.__lt.length,
    }));
    Object.assign(run, { loadScript: loaded.script, blocked: blocked.length });
    if (tracker.tracks) {
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
            for (let i = from; i < from + n; i++) window.bench.track('bench_event', { i, plan: 'pro' });
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
    }
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
    await page.goto(`${server.origin}/p/${tracker.id}/landing?utm_source=newsletter&utm_medium=email&utm_campaign=spring`, { waitUntil: 'load' });
    await sleep(1000);
    for (let n = 1; n <= 3; n++) {
      await page.evaluate((n) => {
        history.pushState({}, '', `/p/${location.pathname.split('/')[2]}/page-${n}`);
        document.title = `Page ${n}`;
        window.bench.navigated?.();
      }, n);
      await sleep(300);
    }
    if (tracker.tracks) for (let n = 1; n <= 5; n++) await page.evaluate((n) => window.bench.track('cta_click', { n }), n);
    await page.evaluate(() => setTimeout(() => { throw new Error('bench error'); }));
    await page.click('#cta').catch(() => {});
    await sleep(1000);
    // Page hide: leaving the page fires visibilitychange and pagehide, the trackers' last chance.
    await page.goto(`${server.origin}/bye`, { waitUntil: 'load' });
    await sleep(2000);
    const requests = server.requests.filter((r) => r.method != 'OPTIONS');
    return {
      requests: requests.length,
      preflights: server.requests.length - requests.length,
      bytes: server.requests.reduce((sum, r) => sum + r.bytes, 0),
      blocked: blocked.length,
      blockedUrls: [...new Set(blocked.map((u) => u.replace(/\?.*/, '')))],
    };
  } finally {
    await context.close();
  }
};

/**
 * Runs every tracker `reps` times, alternating (round-robin, order rotated each round) so that a
 * slow spell of the shared machine hits all of them alike; then one scripted visit each.
 */
export const measureBrowser = async ({ reps = 3, only, log = console.log } = {}) => {
  const list = (await trackers()).filter((t) => !only || only.includes(t.id));
  const server = await startBenchServer();
  server.page('/bye', '<!doctype html><title>Bye</title><p>Bye');
  for (const tracker of list) server.page(`/p/${tracker.id}`, pageFor(tracker));
  const browser = await launch();
  const runs = Object.fromEntries(list.map((t) => [t.id, []]));
  const visits = {};
  try {
    // A warm-up load, discarded: the first page of a fresh browser pays for starting it.
    await mainThreadRun(browser, server, { ...list[0], tracks: false });
    for (let rep = 0; rep < reps; rep++) {
      const order = list.map((_, i) => list[(i + rep) % list.length]);
      for (const tracker of order) runs[tracker.id].push(await mainThreadRun(browser, server, tracker));
      log(`bench: browser round ${rep + 1}/${reps} done`);
    }
    for (const tracker of list) visits[tracker.id] = await visit(browser, server, tracker);
    const version = browser.version();
    return { version, throttle: THROTTLE, events: EVENTS, reps, trackers: list.map(({ id, label, tracks, note, partial }) => ({ id, label, tracks, note, partial })), runs, visits };
  } finally {
    await browser.close();
    await server.close();
  }
};
