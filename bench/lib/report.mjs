// Turns one run's measurements into results.json, the tables of docs/benchmarks.md and the comparison lines.
import { summary } from './stats.mjs';

const int = (n) => (n == null ? '–' : Math.round(n).toLocaleString('en-US'));
const ms = (n) => (n == null ? '–' : n < 10 ? n.toFixed(1) : int(n));
const ratio = (n) =>
  n == null || !Number.isFinite(n) ? '–' : n < 10 ? n.toFixed(2) + '×' : Math.round(n) + '×';
const spread = (s, fmt = ms) => (s ? `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})` : '–');
const pct = (s) =>
  s
    ? `${Math.round(s.median * 100)} %` +
      (s.min != s.max ? ` (${Math.round(s.min * 100)}–${Math.round(s.max * 100)})` : '')
    : '–';
/** A markdown table: the first column and those in `left` are text, the others numbers (right-aligned). */
const table = (head, rows, left = []) =>
  [
    `| ${head.join(' | ')} |`,
    `| ${head.map((_, i) => (i && !left.includes(i) ? '---:' : '---')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');

/** The main-thread metrics, each summarised over the runs of every tracker. */
export const METRICS = [
  { key: 'start', label: 'script time to start (ms)' },
  { key: 'firstFile', label: 'of which evaluating the first file (ms)' },
  { key: 'after', label: 'script after start, within the trace (ms)' },
  { key: 'tbt', label: 'blocking time at load (ms)' },
  { key: 'longTasks', label: 'long tasks at load' },
  { key: 'task', label: '1,000 track() in one task (ms)' },
  { key: 'task3000', label: '3,000 track() in one task, no throttle (ms)' },
  { key: 'track', label: '1,000 track() in chunks of 50 (ms)' },
  { key: 'trackFlush', label: 'track + flush 1,000, main thread (ms)' },
];

/** Summaries per tracker: `{ id: { metric: { median, min, max, n } } }`. */
export const summarise = (browser) =>
  Object.fromEntries(
    Object.entries(browser.runs).map(([id, runs]) => [
      id,
      Object.fromEntries(
        [
          ...METRICS.map((m) => m.key),
          'delivered',
          'requests',
          'calls',
          'taskCalls',
          'task3000Calls',
        ].map((key) => [key, summary(runs, key)]),
      ),
    ]),
  );

/** Peers that are comparable trackers: not the web-vitals floor, not a loader without its tracker. */
const comparablePeers = (sizes) =>
  sizes.filter((row) => row.group == 'peer' && row.id != 'web-vitals' && !row.partial);

/**
 * Issue #17's table: one row per figure, Tracklet against the best comparable peer of the same run.
 * Each row: `{ figure, unit, ours, peers: [{ id, label, value, extra? }] }`, lower is better.
 */
export const headline = ({ sizes, browser, summaries }) => {
  const peers = comparablePeers(sizes);
  const size = (id) => sizes.find((r) => r.id == id)?.brotli;
  const label = (row) => row.label;
  const rows = [
    {
      figure: 'script tag, first file (brotli)',
      unit: 'B',
      ours: size('tracklet-first'),
      peers: peers.map((p) => ({ id: p.id, label: label(p), value: p.brotli })),
    },
    {
      figure: 'script tag, all files it loads (brotli)',
      unit: 'B',
      ours: size('tracklet'),
      peers: peers.map((p) => ({ id: p.id, label: label(p), value: p.brotli })),
    },
    {
      figure: 'npm `init` + `track`, bundled by an app (brotli)',
      unit: 'B',
      ours: size('tracklet-npm'),
      peers: peers.map((p) => ({ id: p.id, label: label(p), value: p.brotli })),
    },
  ];
  if (browser) {
    const metric = (figure, key, unit = 'ms') => ({
      figure,
      unit,
      ours: summaries.tracklet?.[key]?.median,
      peers: peers
        .filter((p) => summaries[p.id]?.[key])
        .map((p) => ({ id: p.id, label: label(p), value: summaries[p.id][key].median })),
    });
    rows.push(metric(`script time to start (${browser.throttle}× throttle)`, 'start'));
    rows.push(
      metric(`1,000 \`track()\` calls in one task (${browser.throttle}× throttle)`, 'task'),
    );
    rows.push(metric('3,000 `track()` calls in one task, no throttle', 'task3000'));
    const visits = browser.shortVisits || {};
    rows.push({
      figure:
        'bytes sent in one scripted visit (load, 10 events, one SPA navigation, close the tab)',
      unit: 'B',
      ours: visits.tracklet?.bytes,
      oursExtra: visits.tracklet && `in ${visits.tracklet.requests} requests`,
      peers: peers
        .filter((p) => visits[p.id])
        .map((p) => ({
          id: p.id,
          label: label(p),
          value: visits[p.id].bytes,
          extra: `in ${visits[p.id].requests}`,
        })),
    });
  }
  return rows.map((row) => {
    const peers = [...row.peers].sort((a, b) => a.value - b.value);
    const best = peers[0];
    return {
      ...row,
      peers,
      best,
      ratio: best && row.ours != null ? row.ours / Math.max(best.value, 0.1) : undefined,
    };
  });
};

/** Every figure where a peer's median beats Tracklet's, and by how much. */
export const peerWins = (results) => {
  const { sizes, browser, summaries } = results;
  const wins = [];
  const fmt = (row, v) => (row.unit == 'B' ? `${int(v)} B` : `${ms(v)} ms`);
  for (const row of headline(results))
    for (const peer of row.peers)
      if (row.ours != null && peer.value < row.ours)
        wins.push(
          `${peer.label}: ${row.figure}: ${fmt(row, peer.value)} vs Tracklet ` +
            `${fmt(row, row.ours)} (Tracklet ÷ peer ${ratio(row.ours / Math.max(peer.value, 0.1))})`,
        );
  const peers = comparablePeers(sizes);
  if (browser) {
    const ours = summaries.tracklet;
    for (const peer of peers) {
      const theirs = summaries[peer.id];
      if (!theirs) continue;
      for (const { key, label: name } of METRICS.filter(
        (m) => !['start', 'task', 'task3000', 'firstFile', 'after'].includes(m.key),
      )) {
        const a = ours?.[key]?.median;
        const b = theirs[key]?.median;
        if (a == null || b == null || b >= a) continue;
        if (key == 'longTasks') wins.push(`${peer.label}: ${name} ${int(b)} vs Tracklet ${int(a)}`);
        else
          wins.push(
            `${peer.label}: ${name} ${ms(b)} vs Tracklet ${ms(a)} (Tracklet ÷ peer ${ratio(a / Math.max(b, 0.1))})`,
          );
      }
      const visitOurs = browser.visits.tracklet;
      const visitTheirs = browser.visits[peer.id];
      if (visitTheirs && visitOurs && visitTheirs.bytes < visitOurs.bytes)
        wins.push(
          `${peer.label}: ${int(visitTheirs.bytes)} bytes sent in the longer visit vs Tracklet ` +
            `${int(visitOurs.bytes)} (Tracklet ÷ peer ${ratio(visitOurs.bytes / Math.max(visitTheirs.bytes, 1))})`,
        );
    }
  }
  return wins;
};

/** The relay against the floor: one row per target. */
export const relayTable = (relay) => {
  const fmtLost = (r) =>
    r.lost == null ? '–' : `${int(r.arrivedA)} / ${int(r.arrivedB)}, ${int(r.lost)} missing`;
  return table(
    [
      'target',
      'events/s',
      '× floor',
      'latency p50 (ms)',
      'p99 (ms)',
      'CPU µs / event',
      'accepted events',
      'at the sink (a / b), accepted missing',
      'non-2xx',
      'errors',
    ],
    relay.rows.map((r) => [
      r.target,
      int(r.eventsPerSecond),
      ratio(r.ratio),
      int(r.p50),
      int(r.p99),
      r.cpuUsPerEvent == null ? '–' : int(r.cpuUsPerEvent),
      int(r.accepted),
      fmtLost(r),
      int(r.non2xx),
      int(r.errors),
    ]),
    [7],
  );
};

/** The markdown of one run. */
export const markdown = (results) => {
  const { machine, sizes, browser, summaries, relay, wins, notes, seconds } = results;
  const out = [];
  out.push(
    `Measured ${machine.date} on ${machine.nproc} cores (${machine.cpu}), ` +
      `${machine.chromium}, Node ${machine.node}; \`npm run bench\` took ${int(seconds)} s.`,
  );
  out.push(
    "The machine is shared: figures are medians with the run's min–max in brackets, and they move between runs.",
  );
  out.push('\n### Tracklet and the best peer, same run\n');
  out.push(
    table(
      ['', 'Tracklet', 'best peer', 'Tracklet ÷ best peer', 'the other peers'],
      headline(results).map((row) => {
        const v = (value) => (row.unit == 'B' ? `${int(value)} B` : `${ms(value)} ms`);
        return [
          row.figure,
          row.ours == null ? '–' : v(row.ours) + (row.oursExtra ? ` ${row.oursExtra}` : ''),
          row.best
            ? `${row.best.label.replace(/ [\d.]+$/, '')} ` +
              `${v(row.best.value)}${row.best.extra ? ` ${row.best.extra}` : ''}`
            : '–',
          ratio(row.ratio),
          row.peers
            .slice(1)
            .map(
              (p) =>
                `${p.label.replace(/ [\d.]+$/, '')} ${v(p.value)}${p.extra ? ` ${p.extra}` : ''}`,
            )
            .join(', '),
        ];
      }),
      [2, 4],
    ),
  );
  if (relay && !relay.unavailable && relay.rows.length) {
    const rounds =
      relay.rounds > 1 ? `median of ${relay.rounds} rounds, each against its own floor` : 'one run';
    out.push(
      `\n### Relay against the machine's floor (${relay.batch}-event batches, ` +
        `${relay.connections} connections, ${relay.duration} s each, loopback, ${rounds})\n`,
    );
    out.push(relayTable(relay));
    if (relay.notes?.length) out.push('\n' + relay.notes.map((n) => `- ${n}`).join('\n'));
  } else out.push(`\n### Relay\n\nnot measured: ${relay?.unavailable || 'no rows'}`);
  out.push('\n### Size (bytes of the bundle; peers bundled with the same esbuild settings)\n');
  out.push(
    table(
      ['build', 'minified', 'gzip', 'brotli', '× Tracklet tag, all files (brotli)', 'captures'],
      sizes.map((r) => [
        r.label,
        int(r.min),
        int(r.gzip),
        int(r.brotli),
        ratio(r.ratio),
        r.offers || '',
      ]),
      [5],
    ),
  );
  if (browser) {
    const startKeys = ['start', 'firstFile', 'after', 'tbt', 'longTasks', 'task', 'task3000'];
    out.push(
      `\n### Start-up and calls (Chromium ${browser.version}, CPU throttled ${browser.throttle}× ` +
        `unless said, median of ${browser.reps} runs, start-up figures of ` +
        `${browser.startupReps || browser.reps}, trackers alternating)\n`,
    );
    out.push(
      table(
        ['tracker', ...METRICS.filter((m) => startKeys.includes(m.key)).map((m) => m.label)],
        browser.trackers.map((t) => {
          const s = summaries[t.id];
          return [
            t.label,
            ...METRICS.filter((m) => startKeys.includes(m.key)).map((m) =>
              spread(s[m.key], m.key == 'longTasks' ? int : ms),
            ),
          ];
        }),
      ),
    );
    const taskScaled = browser.trackers.filter((t) =>
      ['taskCalls', 'task3000Calls'].some(
        (k) => summaries[t.id][k] && summaries[t.id][k].min < (k == 'taskCalls' ? 1000 : 3000),
      ),
    );
    if (taskScaled.length) {
      const measured = taskScaled.map(
        (t) =>
          `${t.label} (${int(summaries[t.id].taskCalls?.min)} of 1,000 throttled, ` +
          `${int(summaries[t.id].task3000Calls?.min)} of 3,000 unthrottled)`,
      );
      out.push(
        '\nToo slow to finish the calls in one task within 2 s, so measured on fewer and scaled: ' +
          `${measured.join(', ')}.`,
      );
    }
    out.push(
      `\n### Delivery of 1,000 events (CPU throttled ${browser.throttle}×, ` +
        `${browser.deliveryReps > 1 ? `median of ${browser.deliveryReps} runs` : 'one run'})\n`,
    );
    const tag = summaries.tracklet?.trackFlush?.median;
    out.push(
      table(
        [
          'tracker',
          ...METRICS.filter((m) => ['track', 'trackFlush'].includes(m.key)).map((m) => m.label),
          'delivered within 6 s',
          'requests per 1,000',
          '× Tracklet (track + flush)',
        ],
        browser.trackers
          .filter((t) => t.tracks)
          .map((t) => {
            const s = summaries[t.id];
            return [
              t.label,
              spread(s.track),
              spread(s.trackFlush),
              pct(s.delivered),
              int(s.requests?.median),
              tag ? ratio(s.trackFlush?.median / tag) : '–',
            ];
          }),
      ),
    );
    const scaled = browser.trackers.filter(
      (t) => summaries[t.id].calls && summaries[t.id].calls.min < browser.events,
    );
    if (scaled.length) {
      const measured = scaled.map(
        (t) => `${t.label} (${summaries[t.id].calls.min}–${summaries[t.id].calls.max} calls)`,
      );
      out.push(
        '\nToo slow to finish 1,000 calls within 5 s, so measured on fewer and scaled to 1,000: ' +
          `${measured.join(', ')}.`,
      );
    }
    out.push('\n### Network\n');
    out.push(
      'The visit of the table above: landing, 10 custom events, one SPA navigation, the tab ' +
        'closed. A longer visit: landing ' +
        'with campaign parameters, 3 SPA navigations, 5 custom events, 1 error, a click, page ' +
        'hide by navigating away.\n',
    );
    out.push(
      table(
        [
          'tracker',
          'short visit: requests',
          'bytes sent (body + URL)',
          'longer visit: requests',
          'bytes sent (body + URL)',
          'CORS preflights',
          'tried to reach other hosts (blocked)',
        ],
        browser.trackers.map((t) => {
          const v = browser.visits[t.id];
          const short = browser.shortVisits?.[t.id];
          return [
            t.label,
            int(short?.requests),
            int(short?.bytes),
            int(v.requests),
            int(v.bytes),
            int(v.preflights + (short?.preflights || 0)),
            v.blocked
              ? `${v.blocked}: ${v.blockedUrls.map((u) => u.replace(/^https?:\/\/([^/]+).*/, '$1')).join(', ')}`
              : '0',
          ];
        }),
        [6],
      ),
    );
  } else out.push('\n### Main thread and network\n\nnot measured (BENCH_SKIP_BROWSER)');
  out.push('\n### Where a peer still beats Tracklet\n');
  out.push(wins.length ? wins.map((w) => `- ${w}`).join('\n') : 'Nowhere in this run.');
  if (notes.length) out.push('\n### Notes\n\n' + notes.map((n) => `- ${n}`).join('\n'));
  return out.join('\n') + '\n';
};
