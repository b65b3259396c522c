// Turns one run's measurements into results.json, results.md (the tables) and the comparison lines.
import { summary } from './stats.mjs';

const int = (n) => (n == null ? '–' : Math.round(n).toLocaleString('en-US'));
const ms = (n) => (n == null ? '–' : n < 10 ? n.toFixed(1) : int(n));
const ratio = (n) => (n == null || !Number.isFinite(n) ? '–' : n < 10 ? n.toFixed(2) + '×' : Math.round(n) + '×');
const spread = (s, fmt = ms) => (s ? `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})` : '–');
const pct = (s) => (s ? `${Math.round(s.median * 100)} %` + (s.min != s.max ? ` (${Math.round(s.min * 100)}–${Math.round(s.max * 100)})` : '') : '–');
/** A markdown table: the first column and those in `left` are text, the others numbers (right-aligned). */
const table = (head, rows, left = []) => [`| ${head.join(' | ')} |`, `| ${head.map((_, i) => (i && !left.includes(i) ? '---:' : '---')).join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

/** The main-thread metrics, each summarised over the runs of every tracker. */
export const METRICS = [
  { key: 'evalInit', label: 'eval + init (ms)' },
  { key: 'tbt', label: 'blocking time at load (ms)' },
  { key: 'longTasks', label: 'long tasks at load' },
  { key: 'track', label: '1,000 track() (ms)' },
  { key: 'trackFlush', label: 'track + flush 1,000, main thread (ms)' },
];

/** Summaries per tracker: `{ id: { metric: { median, min, max, n } } }`. */
export const summarise = (browser) =>
  Object.fromEntries(
    Object.entries(browser.runs).map(([id, runs]) => [
      id,
      Object.fromEntries([...METRICS.map((m) => m.key), 'delivered', 'requests', 'calls'].map((key) => [key, summary(runs, key)])),
    ]),
  );

/** Every metric where a peer's median beats Tracklet's script tag, and by how much. */
export const peerWins = ({ sizes, browser, summaries }) => {
  const wins = [];
  // web-vitals is a floor, not a tracker; a partial peer (a loader without its tracker) is not comparable.
  const peers = sizes.filter((row) => row.group == 'peer' && row.id != 'web-vitals' && !row.partial);
  const tag = sizes.find((row) => row.id == 'tracklet');
  const label = (id) => sizes.find((r) => r.id == id)?.label || id;
  for (const peer of peers) {
    for (const unit of ['min', 'gzip', 'brotli'])
      if (peer[unit] < tag[unit]) wins.push(`${label(peer.id)}: ${unit} size ${int(peer[unit])} B vs Tracklet ${int(tag[unit])} B (Tracklet ${ratio(tag[unit] / peer[unit])} larger)`);
  }
  if (browser) {
    const ours = summaries.tracklet;
    for (const peer of peers) {
      const theirs = summaries[peer.id];
      if (!theirs) continue;
      for (const { key, label: name } of METRICS) {
        const a = ours?.[key]?.median;
        const b = theirs[key]?.median;
        if (a == null || b == null || b >= a) continue;
        if (key == 'longTasks') wins.push(`${label(peer.id)}: ${name} ${int(b)} vs Tracklet ${int(a)}`);
        else wins.push(`${label(peer.id)}: ${name} ${ms(b)} vs Tracklet ${ms(a)} (Tracklet ${ratio(a / Math.max(b, 0.1))} slower)`);
      }
      const visitOurs = browser.visits.tracklet;
      const visitTheirs = browser.visits[peer.id];
      if (visitTheirs && visitOurs) {
        if (visitTheirs.requests < visitOurs.requests) wins.push(`${label(peer.id)}: ${visitTheirs.requests} requests in the visit vs Tracklet ${visitOurs.requests}`);
        if (visitTheirs.bytes < visitOurs.bytes) wins.push(`${label(peer.id)}: ${int(visitTheirs.bytes)} bytes sent in the visit vs Tracklet ${int(visitOurs.bytes)} (Tracklet ${ratio(visitOurs.bytes / Math.max(visitTheirs.bytes, 1))} more)`);
      }
    }
  }
  return wins;
};

/** The markdown of one run. */
export const markdown = ({ machine, sizes, browser, summaries, relay, wins, notes, seconds }) => {
  const out = [];
  out.push(`Measured ${machine.date} on ${machine.nproc} cores (${machine.cpu}), ${machine.chromium}, Node ${machine.node}; \`npm run bench\` took ${int(seconds)} s.`);
  out.push('The machine is shared: figures are medians with the run\'s min–max in brackets, and they move between runs.');
  out.push('\n### Size (bytes of the bundle; peers bundled with the same esbuild settings)\n');
  out.push(
    table(
      ['build', 'minified', 'gzip', 'brotli', '× Tracklet tag (brotli)', 'captures'],
      sizes.map((r) => [r.label, int(r.min), int(r.gzip), int(r.brotli), r.id == 'tracklet' ? '1×' : ratio(r.ratio), r.offers || '']),
      [5],
    ),
  );
  if (browser) {
    out.push(
      `\n### Main thread (Chromium ${browser.version}, CPU throttled ${browser.throttle}×, median of ${browser.reps} runs, trackers alternating)\n`,
    );
    const tag = summaries.tracklet?.trackFlush?.median;
    out.push(
      table(
        ['tracker', ...METRICS.map((m) => m.label), 'delivered within 6 s', 'requests per 1,000', '× Tracklet (track + flush)'],
        browser.trackers.map((t) => {
          const s = summaries[t.id];
          return [
            t.label,
            ...METRICS.map((m) => spread(s[m.key], m.key == 'longTasks' ? int : ms)),
            t.tracks ? pct(s.delivered) : '–',
            t.tracks ? int(s.requests?.median) : '–',
            t.tracks && tag ? ratio(s.trackFlush?.median / tag) : '–',
          ];
        }),
      ),
    );
    const scaled = browser.trackers.filter((t) => summaries[t.id].calls && summaries[t.id].calls.min < browser.events);
    if (scaled.length)
      out.push(
        `\nToo slow to finish 1,000 calls within 5 s, so measured on fewer and scaled to 1,000: ${scaled.map((t) => `${t.label} (${summaries[t.id].calls.min}–${summaries[t.id].calls.max} calls)`).join(', ')}.`,
      );
    out.push('\n### Network (one visit: landing with campaign parameters, 3 SPA navigations, 5 custom events, 1 error, page hide)\n');
    out.push(
      table(
        ['tracker', 'requests', 'bytes sent (body + URL)', 'CORS preflights', 'tried to reach other hosts (blocked)'],
        browser.trackers.map((t) => {
          const v = browser.visits[t.id];
          return [t.label, int(v.requests), int(v.bytes), int(v.preflights), v.blocked ? `${v.blocked}: ${v.blockedUrls.map((u) => u.replace(/^https?:\/\/([^/]+).*/, '$1')).join(', ')}` : '0'];
        }),
        [4],
      ),
    );
  } else out.push('\n### Main thread and network\n\nnot measured (BENCH_SKIP_BROWSER)');
  out.push('\n### Relay (one process, SQLite file store, loopback, bounded load from a second process)\n');
  if (relay.unavailable) out.push(`relay not available: ${relay.unavailable}`);
  else
    out.push(
      `${relay.connections} connections, ${relay.duration} s per batch size; ${int(relay.accepted)} events accepted (2xx), ${int(relay.stored)} stored when the relay stopped.\n\n` +
        table(
          ['events per request', 'events/s', 'requests/s', 'latency p50 (ms)', 'p90', 'p99', 'max', 'non-2xx', 'errors'],
          relay.rows.map((r) => [int(r.batchSize), int(r.eventsPerSecond), int(r.requestsPerSecond), int(r.p50), int(r.p90), int(r.p99), int(r.max), int(r.non2xx), int(r.errors)]),
        ),
    );
  out.push('\n### Where a peer beats Tracklet\n');
  out.push(wins.length ? wins.map((w) => `- ${w}`).join('\n') : 'Nowhere in this run.');
  if (notes.length) out.push('\n### Notes\n\n' + notes.map((n) => `- ${n}`).join('\n'));
  return out.join('\n') + '\n';
};
