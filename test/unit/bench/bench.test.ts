// @vitest-environment node
// The benchmark's own arithmetic: the start-up figure read from a Chromium trace, the table of
// Tracklet against the best peer, and the floor server the relay is measured against.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { headline, peerWins } from '../../../bench/lib/report.mjs';
import { startupFromTrace } from '../../../bench/lib/trace.mjs';

const ORIGIN = 'http://127.0.0.1:4000';
const tag = {
  src: '/dist/tracklet.js',
  owns: (path: string) => path.startsWith('/dist/') || path == '/t/tracklet-page.js',
};
/** A complete trace event ("X") of `dur` µs at `ts` µs on the renderer's main thread unless told. */
const x = (
  name: string,
  ts: number,
  dur: number,
  data: Record<string, unknown> = {},
  thread = { pid: 1, tid: 1 },
) => ({ ph: 'X', name, ts, dur, ...thread, args: { data } });
const script = (
  name: string,
  ts: number,
  dur: number,
  path: string,
  thread?: { pid: number; tid: number },
) => x(name, ts, dur, { url: ORIGIN + path }, thread);
const send = (ts: number, path: string) => ({
  ph: 'I',
  name: 'ResourceSendRequest',
  ts,
  pid: 1,
  tid: 1,
  args: { data: { url: ORIGIN + path } },
});
/** The window's load event: its dispatch, and the main frame's MarkLoad inside it. */
const load = (ts: number, dur: number) => [
  x('EventDispatch', ts, dur, { type: 'load' }),
  {
    ph: 'I',
    name: 'MarkLoad',
    ts: ts + dur - 1,
    pid: 1,
    tid: 1,
    args: { data: { isMainFrame: true } },
  },
];

describe('start-up from a trace', () => {
  it('counts the tracker’s script from its first file until its first request leaves, nested calls once', () => {
    const figures = startupFromTrace(
      [
        script('EvaluateScript', 1_000, 10_000, '/dist/tracklet.js'),
        // Called from inside the evaluation: already counted in its 10 ms.
        script('FunctionCall', 2_000, 3_000, '/dist/tracklet.js'),
        script('EvaluateScript', 12_000, 1_000, '/t/tracklet-page.js'),
        script('FunctionCall', 20_000, 2_000, '/dist/tracklet.js'),
        send(25_000, '/collect'),
        script('FunctionCall', 30_000, 4_000, '/dist/tracklet.js'),
        ...load(40_000, 500),
        script('EvaluateScript', 50_000, 6_000, '/dist/tracklet.captures.js'),
      ],
      tag,
      ORIGIN,
    );
    expect(figures).toEqual({ start: 13, firstFile: 10, after: 10, sentBeforeLoad: true });
  });

  it('stops at the end of the load event when nothing was sent before it; later files count after start', () => {
    const figures = startupFromTrace(
      [
        script('EvaluateScript', 1_000, 8_000, '/dist/tracklet.js'),
        script('FunctionCall', 20_000, 2_000, '/dist/tracklet.js'),
        ...load(30_000, 1_000),
        script('EvaluateScript', 40_000, 5_000, '/dist/tracklet.captures.js'),
        script('FunctionCall', 50_000, 1_500, '/dist/tracklet.captures.js'),
        send(60_000, '/collect'),
      ],
      tag,
      ORIGIN,
    );
    expect(figures).toEqual({ start: 10, firstFile: 8, after: 6.5, sentBeforeLoad: false });
  });

  it('leaves out other pages’ scripts, other origins, other threads, and script files fetched as requests', () => {
    const figures = startupFromTrace(
      [
        script('EvaluateScript', 1_000, 4_000, '/dist/tracklet.js'),
        script('EvaluateScript', 6_000, 9_000, '/p/tracklet'),
        x('FunctionCall', 7_000, 9_000, { url: 'http://elsewhere.test/dist/tracklet.js' }),
        script('FunctionCall', 8_000, 9_000, '/dist/tracklet.js', { pid: 1, tid: 2 }),
        send(9_000, '/dist/tracklet.captures.js'),
        script('FunctionCall', 10_000, 1_000, '/dist/tracklet.js'),
        ...load(20_000, 100),
      ],
      tag,
      ORIGIN,
    );
    expect(figures.start).toBe(5);
  });

  it('is not cut short by the load event of a script element, only by the window’s', () => {
    const figures = startupFromTrace(
      [
        script('EvaluateScript', 1_000, 4_000, '/dist/tracklet.js'),
        // The <script> element's own load event, right after it ran.
        x('EventDispatch', 5_500, 100, { type: 'load' }),
        script('EvaluateScript', 6_000, 2_000, '/t/tracklet-page.js'),
        script('FunctionCall', 9_000, 1_000, '/dist/tracklet.js'),
        ...load(20_000, 3_000),
        script('FunctionCall', 30_000, 1_000, '/dist/tracklet.js'),
      ],
      tag,
      ORIGIN,
    );
    expect(figures).toEqual({ start: 7, firstFile: 4, after: 1, sentBeforeLoad: false });
  });

  it('gives nothing when the tracker’s file never ran', () => {
    expect(
      startupFromTrace([script('EvaluateScript', 1_000, 4_000, '/t/plausible.js')], tag, ORIGIN),
    ).toEqual({});
  });
});

const sizeRow = (id: string, brotli: number, extra: Record<string, unknown> = {}) => ({
  id,
  label: id,
  min: brotli * 3,
  gzip: brotli + 100,
  brotli,
  ...extra,
});
const results = {
  sizes: [
    sizeRow('tracklet-first', 2_900, { group: 'tracklet' }),
    sizeRow('tracklet', 6_000, { group: 'tracklet' }),
    sizeRow('tracklet-npm', 2_700, { group: 'tracklet' }),
    sizeRow('web-vitals', 2_200, { group: 'peer' }),
    sizeRow('plausible', 2_335, { group: 'peer' }),
    sizeRow('openpanel', 2_853, { group: 'peer' }),
    sizeRow('databuddy', 900, { group: 'peer', partial: true }),
  ],
  browser: {
    throttle: 4,
    visits: { tracklet: { requests: 2, bytes: 3_000 }, plausible: { requests: 14, bytes: 1_800 } },
    shortVisits: {
      tracklet: { requests: 2, bytes: 900 },
      plausible: { requests: 12, bytes: 1_800 },
      openpanel: { requests: 12, bytes: 2_000 },
    },
  },
  summaries: {
    tracklet: { start: { median: 20 }, task: { median: 8 }, task3000: { median: 12 } },
    plausible: { start: { median: 18 }, task: { median: 800 }, task3000: { median: 700 } },
    openpanel: { start: { median: 30 }, task: { median: 20 }, task3000: { median: 9 } },
  },
};

describe('Tracklet against the best peer', () => {
  const rows = headline(results);
  const row = (start: string) => rows.find((r) => r.figure.startsWith(start))!;

  it(
    'compares each figure with the best comparable peer (not ' +
      'web-vitals, not a loader alone) and gives the ratio',
    () => {
      expect(row('script tag, first file')).toMatchObject({
        ours: 2_900,
        best: { id: 'plausible', value: 2_335 },
      });
      expect(row('script tag, first file').ratio).toBeCloseTo(2_900 / 2_335);
      expect(row('npm').best.id).toBe('plausible');
      expect(row('npm').ratio).toBeCloseTo(2_700 / 2_335);
      expect(row('script time to start')).toMatchObject({
        ours: 20,
        best: { id: 'plausible', value: 18 },
      });
      expect(row('1,000')).toMatchObject({ ours: 8, best: { id: 'openpanel', value: 20 } });
      expect(row('bytes sent')).toMatchObject({
        ours: 900,
        best: { id: 'plausible', value: 1_800 },
      });
      expect(row('bytes sent').ratio).toBeCloseTo(0.5);
    },
  );

  it('lists every figure where a peer still wins, and none where Tracklet does', () => {
    const wins = peerWins(results);
    expect(wins.some((w) => w.startsWith('plausible: script tag, first file'))).toBe(true);
    expect(wins.some((w) => w.startsWith('plausible: script time to start'))).toBe(true);
    expect(wins.some((w) => w.startsWith('openpanel: 3,000'))).toBe(true);
    expect(wins.some((w) => w.includes('1,000 `track()` calls in one task'))).toBe(false);
    expect(wins.some((w) => w.startsWith('databuddy') || w.startsWith('web-vitals'))).toBe(false);
    expect(wins.some((w) => w.includes('scripted visit'))).toBe(false);
  });
});

/** POSTs `body` to `url`; resolves to the status and the parsed answer. */
const post = (url: string, body: string) =>
  new Promise<{ status: number; json: Record<string, unknown> }>((done, fail) => {
    const req = request(
      url,
      { method: 'POST', headers: { 'content-type': 'text/plain' } },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => done({ status: res.statusCode!, json: JSON.parse(text) }));
      },
    );
    req.on('error', fail);
    req.end(body);
  });

describe('the floor server', () => {
  it('stores every event of each batch it accepts, and refuses a body that is not a batch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tracklet-floor-test-'));
    const child = spawn(
      process.execPath,
      [join(import.meta.dirname, '../../../bench/lib/floor-server.mjs'), join(dir, 'floor.sqlite')],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    try {
      const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
      const { url } = JSON.parse((await lines.next()).value);
      const batch = (from: number) =>
        JSON.stringify({
          v: 1,
          site: 'shop',
          events: Array.from({ length: 20 }, (_, i) => ({
            type: 'event',
            name: 'x',
            id: `e${from + i}`,
          })),
        });
      expect(await post(url + '/collect', batch(0))).toEqual({
        status: 202,
        json: { accepted: 20 },
      });
      expect(await post(url + '/collect', batch(20))).toEqual({
        status: 202,
        json: { accepted: 20 },
      });
      expect((await post(url + '/collect', 'not json')).status).toBe(400);
      child.stdin!.end();
      expect(JSON.parse((await lines.next()).value)).toEqual({ stored: 40 });
    } finally {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('benchmark events in a request', () => {
  it(
    'counts each event of a wire-v2 body whose shared name ' +
      'went into common, and text occurrences otherwise',
    async () => {
      const { marksIn } = await import('../../../bench/lib/server.mjs');
      const v2 = JSON.stringify({
        v: 2,
        site: 's',
        sentAt: 1,
        common: { name: 'bench_event', anonymousId: 'a' },
        events: [{ id: '1' }, { id: '2' }, { id: '3', name: 'other' }],
      });
      expect(marksIn(v2, v2)).toBe(2);
      const v1 = JSON.stringify({
        v: 1,
        site: 's',
        sentAt: 1,
        events: [
          { id: '1', name: 'bench_event' },
          { id: '2', name: 'bench_event' },
        ],
      });
      expect(marksIn(v1, v1)).toBe(2);
      expect(marksIn('n=bench_event', 'n=bench_event')).toBe(1);
    },
  );
});

describe('the bench server', () => {
  it("records a tracker's requests and not the browser's own request for the page icon", async () => {
    const { startBenchServer } = await import('../../../bench/lib/server.mjs');
    const server = await startBenchServer();
    try {
      const icon = await fetch(`${server.origin}/favicon.ico`);
      expect(icon.status).toBe(404);
      const sent = await fetch(`${server.origin}/api/event?n=1`, {
        method: 'POST',
        body: '{"a":1}',
      });
      expect(sent.status).toBe(200);
      expect(
        server.requests.map((r: { method: string; path: string }) => [r.method, r.path]),
      ).toEqual([['POST', '/api/event']]);
    } finally {
      await server.close();
    }
  });
});
