// The chart: the same numbers as docs/benchmarks.md as SVG bar panels on one page, screenshot by Chromium.
import { chromium } from 'playwright-core';

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');
const fmt = (n) =>
  n >= 100 ? Math.round(n).toLocaleString('en-US') : n >= 10 ? n.toFixed(0) : n.toFixed(1);

/**
 * One horizontal bar panel. `items`: `{ label, value, min?, max?, ours? }`. Log scale when values
 * span more than two orders of magnitude, so that small bars stay visible next to large ones.
 */
const panel = (title, unit, items) => {
  items = items.filter((i) => i.value != null && Number.isFinite(i.value));
  const width = 880;
  const labelW = 250;
  const barW = width - labelW - 120;
  const rowH = 22;
  const height = 34 + items.length * rowH + 8;
  const top = Math.max(...items.map((i) => i.max ?? i.value), 1);
  const low = Math.max(Math.min(...items.map((i) => i.value).filter((v) => v > 0)), 0.1);
  const log = top / low > 100;
  const x = (v) => {
    if (v <= 0) return 0;
    return Math.max(
      0,
      log ? (barW * Math.log10(v / (low / 2))) / Math.log10(top / (low / 2)) : (barW * v) / top,
    );
  };
  const rows = items.map((item, i) => {
    const y = 34 + i * rowH;
    const whisker =
      item.min != null && item.max != null && item.max > item.min
        ? `<line x1="${labelW + x(item.min)}" x2="${labelW + x(item.max)}" y1="${y + 8}" ` +
          `y2="${y + 8}" stroke="#333" stroke-width="1.5"/>`
        : '';
    return (
      `<text x="${labelW - 8}" y="${y + 12}" text-anchor="end" ` +
      `font-weight="${item.ours ? 700 : 400}">${esc(item.label)}</text>
<rect x="${labelW}" y="${y}" width="${Math.max(1, x(item.value))}" height="16" ` +
      `fill="${item.ours ? '#1b7f5b' : '#8a94a6'}"/>${whisker}
<text x="${labelW + Math.max(x(item.value), x(item.max ?? 0)) + 6}" y="${y + 12}">${fmt(item.value)}</text>`
    );
  });
  return (
    `<svg width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg" ` +
    `font-family="DejaVu Sans, sans-serif" font-size="12">
<text x="0" y="18" font-size="14" font-weight="700">${esc(title)}</text><text x="${width}" y="18" ` +
    `text-anchor="end" fill="#555">${esc(unit)}${log ? ', log scale' : ''}</text>
${rows.join('\n')}</svg>`
  );
};

/** Builds the chart page from results.json's content. */
export const chartHtml = ({ machine, sizes, browser, summaries, relay }) => {
  const panels = [];
  panels.push(
    panel(
      'Size: brotli bytes',
      'bytes, lower is better',
      sizes.map((r) => ({ label: r.label, value: r.brotli, ours: r.group == 'tracklet' })),
    ),
  );
  if (browser) {
    const items = (key, only) =>
      browser.trackers
        .filter((t) => !only || t.tracks)
        .map((t) => ({
          label: t.label,
          value: summaries[t.id][key]?.median,
          min: summaries[t.id][key]?.min,
          max: summaries[t.id][key]?.max,
          ours: t.id.startsWith('tracklet'),
        }));
    panels.push(
      panel(
        `Script time to start (Chromium, ${browser.throttle}× CPU throttle)`,
        'ms, median and min–max',
        items('start'),
      ),
    );
    panels.push(
      panel(
        `1,000 track() calls in one task (${browser.throttle}× CPU throttle)`,
        'ms, median and min–max',
        items('task', true),
      ),
    );
    panels.push(
      panel(
        '1,000 track() calls + flush: main-thread time',
        'ms, median and min–max',
        items('trackFlush', true),
      ),
    );
    const visits = browser.shortVisits || browser.visits;
    panels.push(
      panel(
        'One scripted visit (load, 10 events, one SPA navigation, close): bytes sent',
        'bytes',
        browser.trackers
          .filter((t) => visits[t.id])
          .map((t) => ({
            label: `${t.label} (${visits[t.id].requests} req)`,
            value: visits[t.id].bytes,
            ours: t.id.startsWith('tracklet'),
          })),
      ),
    );
  }
  if (relay && !relay.unavailable && relay.rows.length)
    panels.push(
      panel(
        `Relay and the machine's floor: events ingested per second (${relay.batch}-event batches)`,
        'events/s, higher is better',
        relay.rows.map((r) => ({
          label: r.target.replace(/ \(.*/, '') + (r.store == 'sqlite' ? '' : ` (${r.store})`),
          value: r.eventsPerSecond,
          ours: r.target.startsWith('tracklet'),
        })),
      ),
    );
  return (
    `<!doctype html><html><head><meta charset="utf-8"><style>body{margin:16px;background:#fff;` +
    `color:#111;font-family:DejaVu Sans,sans-serif}svg{display:block;margin-bottom:14px}</style>` +
    `</head>
<body><div style="font-size:18px;font-weight:700">Tracklet and peers, measured in one run</div>
<div style="font-size:12px;color:#555;margin:4px 0 14px">${esc(machine.date)} · ${machine.nproc} ` +
    `cores, ${esc(machine.cpu)} · ${esc(machine.chromium)} · medians; whiskers show the run's ` +
    `min–max</div>
${panels.join('\n')}</body></html>`
  );
};

/** Renders the chart page and writes a PNG screenshot of it. */
export const renderChart = async (html, file) => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 920, height: 600 } });
    await page.setContent(html);
    await page.screenshot({ path: file, fullPage: true });
  } finally {
    await browser.close();
  }
};
