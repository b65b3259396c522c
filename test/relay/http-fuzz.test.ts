/**
 * Raw, malformed HTTP thrown at the relay CLI over plain sockets: odd targets, bad and duplicate
 * headers, broken bodies, slow senders, oversized lines. After every case the relay still answers
 * /health, and where it answers the case, the answer is a 4xx (JSON where the relay wrote it).
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ensureBuilt, startCli, tempDir, writeConfig, type RelayProcess } from './helpers';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 180_000 });

let relay: RelayProcess;
let port: number;

beforeAll(ensureBuilt, 180_000);
beforeAll(async () => {
  const dir = tempDir();
  const config = writeConfig(dir, {
    limits: { headersTimeoutMs: 800, requestTimeoutMs: 1500, maxHeaderBytes: 8192 },
    sites: { shop: { origins: ['https://shop.example'] } },
  });
  relay = await startCli(config, ':memory:');
  port = Number(new URL(relay.url).port);
});
afterAll(async () => {
  await relay?.stop();
});

/** What came back on one connection: the raw bytes until the relay closed it or `waitMs` passed. */
interface Answer {
  text: string;
  status?: number;
  closed: boolean;
}

/** Sends `parts` (a number is a pause in ms) on one connection; bounded by `waitMs` after the last part. */
const raw = (parts: (string | Buffer | number)[], waitMs = 1500): Promise<Answer> =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let closed = false;
    let timer: ReturnType<typeof setTimeout>;
    let done = false;
    let sentAll = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ text, status: match ? Number(match[1]) : undefined, closed });
    };
    socket.on('data', (d) => {
      text += d.toString('latin1');
      // A whole answer has come: no need to wait for the connection to close.
      const end = text.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: (\d+)\r\n/i.exec(text.slice(0, end + 2));
      if (sentAll && end > 0 && length && text.length - end - 4 >= Number(length[1])) finish();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      closed = true;
      finish();
    });
    socket.on('connect', async () => {
      for (const part of parts) {
        if (socket.destroyed) break;
        if (typeof part == 'number') await new Promise((r) => setTimeout(r, part));
        else socket.write(typeof part == 'string' ? part.replaceAll(':PORT', ':' + port) : part);
      }
      sentAll = true;
      timer = setTimeout(finish, waitMs);
    });
  });

const health = async () => {
  const response = await fetch(`http://127.0.0.1:${port}/health`);
  return { status: response.status, body: await response.json() };
};

/** The Host header a client sends, port included (`:PORT` is filled in when sent). */
const H = 'Host: 127.0.0.1:PORT\r\n';
const LONG = 'a'.repeat(20_000);

/**
 * [name, parts, expectation]: '4xx' must be answered with a 4xx; 'no-5xx' may be served (a valid
 * request in an odd form).
 */
const CASES: [string, (string | Buffer | number)[], '4xx' | 'no-5xx'][] = [
  ['OPTIONS * with a normal Host', [`OPTIONS * HTTP/1.1\r\n${H}\r\n`], '4xx'],
  ['a Host with a space', ['GET /health HTTP/1.1\r\nHost: a b\r\n\r\n'], '4xx'],
  ['a Host with user info', ['GET /health HTTP/1.1\r\nHost: evil@127.0.0.1\r\n\r\n'], '4xx'],
  ['a Host that is half an IPv6 literal', ['GET /health HTTP/1.1\r\nHost: [::1\r\n\r\n'], '4xx'],
  ['two Host headers', [`GET /health HTTP/1.1\r\n${H}Host: evil.example\r\n\r\n`], '4xx'],
  ['no Host on HTTP/1.1', ['GET /health HTTP/1.1\r\n\r\n'], '4xx'],
  ['an absolute-form target', [`GET http://127.0.0.1/health HTTP/1.1\r\n${H}\r\n`], 'no-5xx'],
  [
    'an absolute-form target of another scheme',
    [`GET ftp://127.0.0.1/health HTTP/1.1\r\n${H}\r\n`],
    '4xx',
  ],
  ['a target that is not a path', [`GET health HTTP/1.1\r\n${H}\r\n`], '4xx'],
  ['an authority-form target on GET', [`GET 127.0.0.1:80 HTTP/1.1\r\n${H}\r\n`], '4xx'],
  ['CONNECT', [`CONNECT 127.0.0.1:80 HTTP/1.1\r\n${H}\r\n`], '4xx'],
  ['a target starting with //', [`GET //evil.example/status HTTP/1.1\r\n${H}\r\n`], '4xx'],
  ['percent garbage', [`GET /%%%ZZ%00%ff%c0%af?%=%&&=%zz HTTP/1.1\r\n${H}\r\n`], '4xx'],
  ['a NUL in the target', [`GET /he\0alth HTTP/1.1\r\n${H}\r\n`], '4xx'],
  ['a very long target', [`GET /${LONG} HTTP/1.1\r\n${H}\r\n`], '4xx'],
  ['a very long header line', [`GET /health HTTP/1.1\r\n${H}X-Long: ${LONG}\r\n\r\n`], '4xx'],
  ['a space in a header name', [`GET /health HTTP/1.1\r\n${H}Bad Header: x\r\n\r\n`], '4xx'],
  ['a header without a colon', [`GET /health HTTP/1.1\r\n${H}NoColon\r\n\r\n`], '4xx'],
  ['a bare LF inside a header value', [`GET /health HTTP/1.1\r\n${H}X-A: a\nb\r\n\r\n`], '4xx'],
  [
    'control bytes in a header value',
    [`GET /health HTTP/1.1\r\n${H}X-A: a\x01\x7fb\r\n\r\n`],
    '4xx',
  ],
  [
    'latin-1 bytes in a header value',
    [
      Buffer.concat([
        Buffer.from(`GET /health HTTP/1.1\r\n${H}X-A: `),
        Buffer.from([0xff, 0xfe, 0xe9]),
        Buffer.from('\r\n\r\n'),
      ]),
    ],
    'no-5xx',
  ],
  ['TRACE (a method fetch refuses)', [`TRACE /health HTTP/1.1\r\n${H}\r\n`], '4xx'],
  ['PROPFIND', [`PROPFIND /status HTTP/1.1\r\n${H}\r\n`], '4xx'],
  ['an unknown method', [`BREW /health HTTP/1.1\r\n${H}\r\n`], '4xx'],
  ['an unknown HTTP version', [`GET /health HTTP/9.9\r\n${H}\r\n`], '4xx'],
  ['a request line of junk', ['\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n'], '4xx'],
  [
    'two different Content-Lengths',
    [`POST /collect HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello`],
    '4xx',
  ],
  [
    'a negative Content-Length',
    [`POST /collect HTTP/1.1\r\n${H}Content-Length: -5\r\n\r\n`],
    '4xx',
  ],
  [
    'Transfer-Encoding with Content-Length',
    [
      `POST /collect HTTP/1.1\r\n${H}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    ],
    '4xx',
  ],
  [
    'an unknown Transfer-Encoding',
    [`POST /collect HTTP/1.1\r\n${H}Transfer-Encoding: gzip, zip\r\n\r\nabc`],
    '4xx',
  ],
  [
    'a chunk size that is not hex',
    [`POST /collect HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n`],
    '4xx',
  ],
  [
    'a chunk longer than its size',
    [`POST /collect HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n2\r\nabcdef\r\n0\r\n\r\n`],
    '4xx',
  ],
  [
    'a chunked body that stops',
    [
      `POST /collect HTTP/1.1\r\n${H}Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\nff\r\n{"v":1`,
    ],
    '4xx',
  ],
  [
    'a body shorter than its Content-Length',
    [`POST /collect HTTP/1.1\r\n${H}Content-Type: text/plain\r\nContent-Length: 100\r\n\r\n{"v":1`],
    '4xx',
  ],
  [
    'a huge Content-Length',
    [
      `POST /collect HTTP/1.1\r\n${H}Content-Type: text/plain\r\nContent-Length: 99999999999\r\n\r\n{}`,
    ],
    '4xx',
  ],
  ['a body on GET', [`GET /health HTTP/1.1\r\n${H}Content-Length: 4\r\n\r\nabcd`], 'no-5xx'],
  [
    'a valid request, then junk on the same connection',
    [`GET /health HTTP/1.1\r\n${H}\r\n`, 100, 'junk junk junk\r\n\r\n'],
    'no-5xx',
  ],
  [
    'a header sent one byte every 150 ms (slow headers)',
    [
      'G',
      150,
      'E',
      150,
      'T',
      150,
      ' ',
      150,
      '/',
      150,
      'h',
      150,
      'e',
      150,
      'a',
      150,
      'l',
      150,
      't',
      150,
      'h',
      150,
      ' ',
      150,
      'H',
    ],
    '4xx',
  ],
  [
    'headers, then a body that never comes (slow body)',
    [
      `POST /collect HTTP/1.1\r\n${H}Content-Type: text/plain\r\nContent-Length: 1000\r\n\r\n{"v":1,`,
    ],
    '4xx',
  ],
  ['an idle connection that sends nothing', [], 'no-5xx'],
];

describe('the relay CLI under malformed HTTP', () => {
  it.each(CASES)('survives %s', async (_name, parts, expected) => {
    // Slow cases need the header or request timeout (0.8 s / 1.5 s, checked every 0.2 s) to pass.
    const answer = await raw(parts, 2500);
    if (answer.status != undefined) {
      expect(answer.status).toBeLessThan(500);
      if (expected == '4xx') expect(answer.status).toBeGreaterThanOrEqual(400);
      const body = answer.text.slice(answer.text.indexOf('\r\n\r\n') + 4);
      if (answer.status >= 400 && body.startsWith('{'))
        expect(JSON.parse(body)).toMatchObject({ error: expect.any(String) });
    } else if (expected == '4xx') {
      // Not answered at all is allowed only where nothing was left to answer: the peer was cut off.
      expect(answer.closed).toBe(true);
    }
    expect(await health()).toEqual({ status: 200, body: { status: 'ok' } });
  });

  it('answers the two requests that used to kill it with a JSON 400 naming the reason', async () => {
    const star = await raw([`OPTIONS * HTTP/1.1\r\n${H}\r\n`]);
    expect(star.status).toBe(400);
    expect(JSON.parse(star.text.slice(star.text.indexOf('\r\n\r\n') + 4))).toMatchObject({
      error: 'bad_request',
      message: expect.stringContaining('"*"'),
    });
    const spaced = await raw(['GET / HTTP/1.1\r\nHost: a b\r\n\r\n']);
    expect(spaced.status).toBe(400);
    expect(JSON.parse(spaced.text.slice(spaced.text.indexOf('\r\n\r\n') + 4))).toMatchObject({
      error: 'bad_request',
      message: expect.stringContaining('Host'),
    });
    expect(relay.child.exitCode).toBe(null);
  });

  it('answers oversized header sections with 431 and slow headers with 408', async () => {
    expect((await raw([`GET /health HTTP/1.1\r\n${H}X-Long: ${LONG}\r\n\r\n`])).status).toBe(431);
    const t = performance.now();
    const slow = await raw(
      [
        'GET /health HTTP/1.1\r\n',
        300,
        'X-A: 1\r\n',
        300,
        'X-B: 2\r\n',
        300,
        'X-C: 3\r\n',
        300,
        'X-D: 4\r\n',
      ],
      3000,
    );
    expect(slow.status).toBe(408);
    expect(slow.text).toMatch(/\r\nconnection: close\r\n/i);
    // Header timeout 0.8 s, checked every 0.2 s: the answer comes well before the 3 s wait ends.
    expect(performance.now() - t).toBeLessThan(3000);
  });

  it('keeps an idle keep-alive connection past the header timeout, and serves the next request on it', async () => {
    const answer = await raw(
      [
        `GET /health HTTP/1.1\r\n${H}\r\n`,
        1500,
        `GET /health HTTP/1.1\r\n${H}Connection: close\r\n\r\n`,
      ],
      1500,
    );
    // Two answers on one connection: idle time between requests is the keep-alive timeout's, not the header timeout's.
    expect(answer.text.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);
  });

  it('survives 300 random mutations of a valid request (seeded, bounded in time)', async () => {
    const body = '{"v":1,"site":"shop","sentAt":1700000000000,"events":[]}';
    const valid =
      `POST /collect HTTP/1.1\r\n${H}Content-Type: text/plain\r\nOrigin: ` +
      `https://shop.example\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    let seed = 16;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const started = performance.now();
    const statuses = new Map<number | undefined, number>();
    for (let i = 0; i < 300 && performance.now() - started < 15_000; i++) {
      const bytes = Buffer.from(valid.replaceAll(':PORT', ':' + port), 'latin1');
      for (let flips = 1 + Math.floor(random() * 4); flips > 0; flips--)
        bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      const answer = await raw([bytes], 300);
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      if (answer.status != undefined)
        expect(answer.status, JSON.stringify(bytes.toString('latin1'))).toBeLessThan(500);
      if (i % 25 == 0) expect((await health()).status).toBe(200);
    }
    console.log(`mutations: answers by status ${JSON.stringify(Object.fromEntries(statuses))}`);
    expect((await health()).status).toBe(200);
    expect(relay.child.exitCode).toBe(null);
  });
});

describe('the connection cap', () => {
  let capped: RelayProcess;
  beforeAll(async () => {
    capped = await startCli(
      writeConfig(tempDir(), {
        limits: { maxConnections: 4 },
        sites: { shop: { origins: ['*'] } },
      }),
      ':memory:',
    );
  });
  afterAll(async () => {
    await capped?.stop();
  });

  /** Opens a connection; resolves to it and a promise of whether the relay closed it within `ms`. */
  const open = async (ms: number) => {
    const socket = connect(Number(new URL(capped.url).port), '127.0.0.1');
    socket.on('error', () => {});
    await new Promise((r) => socket.once('connect', r));
    const closed = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    return { socket, closed };
  };

  it('closes connections past limits.maxConnections at once, and serves again when one goes', async () => {
    const held = [];
    for (let i = 0; i < 4; i++) held.push(await open(300));
    const extra = await open(1000);
    expect(await extra.closed).toBe(true);
    expect(await Promise.all(held.map((h) => h.closed))).toEqual([false, false, false, false]);
    held[0].socket.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const next = await open(0);
    next.socket.write(`GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    const answer = await new Promise<string>((resolve) => {
      let text = '';
      next.socket.on('data', (d) => (text += d));
      next.socket.on('close', () => resolve(text));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    held.forEach((h) => h.socket.destroy());
  });
});
