/**
 * The relay's admin edge and its caps, over HTTP against the CLI: no token on an open address is
 * refused at start, no CORS on the event stream, Host checked (DNS rebinding), `?token=` on the
 * stream only, bounded admin bodies, capped subscribers, slow subscribers dropped, replay bounded in bytes.
 */
import { execFileSync } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError, DEFAULT_LIMITS, resolveConfig } from '../../src/relay/config';
import { startRelay } from '../../src/relay/index';
import {
  batch,
  CLI,
  ensureBuilt,
  pageview,
  post,
  startCli,
  tempDir,
  until,
  writeConfig,
  type RelayProcess,
} from './helpers';

vi.setConfig({ testTimeout: 90_000, hookTimeout: 180_000 });

const TOKEN = 'admin-token-for-tests';
const auth = { Authorization: `Bearer ${TOKEN}` };
let relay: RelayProcess;

beforeAll(ensureBuilt, 180_000);
beforeAll(async () => {
  const dir = tempDir();
  const config = writeConfig(dir, {
    adminTokenEnv: 'EDGE_ADMIN_TOKEN',
    allowedHosts: ['relay.internal'],
    limits: {
      adminBodyBytes: 2048,
      streamSubscribers: 3,
      streamBufferBytes: 65_536,
      replayBytes: 6000,
    },
    sites: { shop: { origins: ['https://shop.example'] } },
  });
  relay = await startCli(config, ':memory:', { EDGE_ADMIN_TOKEN: TOKEN });
});
afterAll(async () => {
  await relay?.stop();
});

/** A GET with a Host header of our choosing (fetch sets its own). */
const getWithHost = (path: string, host: string, headers: Record<string, string> = {}) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const url = new URL(relay.url);
    const req = httpRequest(
      { host: '127.0.0.1', port: url.port, path, headers: { Host: host, ...headers } },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      },
    );
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timed out')));
    req.end();
  });

const statusView = async () =>
  (await (await fetch(relay.url + '/status', { headers: auth })).json()) as {
    stream: { subscribers: number; queuedBytes: number; dropped: number; refused: number };
  };

describe('limits in the config', () => {
  it('has documented defaults and takes overrides', () => {
    const config = resolveConfig({
      limits: { headersTimeoutMs: 5000 },
      sites: { shop: { origins: ['*'] } },
    });
    expect(config.limits).toEqual({ ...DEFAULT_LIMITS, headersTimeoutMs: 5000 });
    expect(DEFAULT_LIMITS).toMatchObject({
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      maxHeaderBytes: 16_384,
      streamSubscribers: 32,
    });
    expect(config.rateLimit).toMatchObject({
      perIp: { perSecond: 20, burst: 200 },
      exemptLoopback: true,
    });
  });

  it.each([
    [
      { limits: { headersTimeoutMs: 40_000 } },
      'limits.headersTimeoutMs: 40000 is longer than limits.requestTimeoutMs (30000)',
    ],
    [{ limits: { maxConnections: 0 } }, 'limits.maxConnections'],
    [{ limits: { streamSubscriber: 3 } }, 'limits.streamSubscriber'],
    [{ rateLimit: { perIp: { perSecond: -1, burst: 1 } } }, 'rateLimit.perIp.perSecond'],
    [{ allowedHosts: ['a b'] }, 'allowedHosts.0'],
  ])('refuses %j, naming the key', (input, message) => {
    expect(() => resolveConfig({ ...input, sites: { shop: { origins: ['*'] } } })).toThrow(message);
  });
});

describe('admin exposure at start', () => {
  const refusal = (args: string[], env: Record<string, string> = {}) => {
    const path = writeConfig(tempDir(), { sites: { shop: { origins: ['*'] } } });
    try {
      const stdout = execFileSync(
        process.execPath,
        [CLI, ...args, '--config', path, '--port', '0'],
        { encoding: 'utf8', stdio: 'pipe', timeout: 10_000, env: { ...process.env, ...env } },
      );
      return { status: 0, stdout, stderr: '' };
    } catch (e) {
      const error = e as { status: number; stdout: string; stderr: string };
      return { status: error.status, stdout: error.stdout, stderr: error.stderr };
    }
  };

  it('refuses to serve the admin routes without a token on a non-loopback host, naming what to set', () => {
    const serve = refusal(['serve', '--host', '0.0.0.0']);
    expect(serve.status).toBe(1);
    expect(serve.stderr).toMatch(
      new RegExp(
        String.raw`^tracklet-relay: refusing to start with .*relay\.json: adminTokenEnv: ` +
          String.raw`the relay would listen on 0\.0\.0\.0 .*set adminTokenEnv.*"adminOpen": true \(--admin-open\)`,
      ),
    );
    const check = refusal(['check'], { TRACKLET_HOST: '::' });
    expect(check.status).toBe(1);
    expect(check.stderr).toMatch(
      /^tracklet-relay: bad config in .*relay\.json: adminTokenEnv: the relay would listen on :: /,
    );
  });

  it('accepts it when the config says so explicitly (--admin-open), and on loopback', () => {
    expect(refusal(['check', '--host', '0.0.0.0', '--admin-open'])).toMatchObject({
      status: 0,
      stdout: 'config ok: 1 site(s)\n',
    });
    expect(refusal(['check', '--host', '127.0.0.1'])).toMatchObject({ status: 0 });
  });

  it('startRelay refuses too, before it binds anything', async () => {
    const config = { sites: { s: { origins: ['*'] } } };
    await expect(startRelay({ config, host: '0.0.0.0', port: 0 })).rejects.toThrow(ConfigError);
    await expect(startRelay({ config: { ...config, host: '0.0.0.0' }, port: 0 })).rejects.toThrow(
      /adminOpen/,
    );
  });
});

describe('admin routes', () => {
  it('sends no wildcard CORS on the event stream', async () => {
    const controller = new AbortController();
    const response = await fetch(relay.url + '/events/stream', {
      headers: { ...auth, Origin: 'https://evil.example' },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(null);
    controller.abort();
  });

  it('takes ?token= on the event stream only; elsewhere the header', async () => {
    const query = await fetch(relay.url + '/status?token=' + TOKEN);
    expect(query.status).toBe(401);
    expect(await query.json()).toMatchObject({
      error: 'unauthorized',
      message: expect.stringContaining('Authorization: Bearer'),
    });
    expect((await fetch(relay.url + '/dead-letters?token=' + TOKEN)).status).toBe(401);
    expect((await fetch(relay.url + '/status', { headers: auth })).status).toBe(200);
    const controller = new AbortController();
    const stream = await fetch(relay.url + '/events/stream?token=' + TOKEN, {
      signal: controller.signal,
    });
    expect(stream.status).toBe(200);
    controller.abort();
  });

  it('answers admin routes only to loopback names and allowedHosts (DNS rebinding)', async () => {
    const port = new URL(relay.url).port;
    const rebound = await getWithHost('/status', `attacker.example:${port}`, auth);
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.body)).toMatchObject({ error: 'host_not_allowed', field: 'Host' });
    expect((await getWithHost('/events/stream?token=' + TOKEN, 'attacker.example')).status).toBe(
      403,
    );
    for (const host of [
      `localhost:${port}`,
      `127.0.0.1:${port}`,
      'relay.internal',
      `RELAY.internal:${port}`,
    ])
      expect((await getWithHost('/status', host, auth)).status, host).toBe(200);
    // Public routes answer any name the relay is reached by.
    expect((await getWithHost('/health', 'attacker.example')).status).toBe(200);
  });

  it('bounds the requeue body', async () => {
    const big = await fetch(relay.url + '/dead-letters/requeue', {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ ids: Array.from({ length: 2000 }, (_, i) => i) }),
    });
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({
      error: 'body_too_large',
      message: 'the limit is 2048 bytes',
    });
    const bad = await fetch(relay.url + '/dead-letters/requeue', {
      method: 'POST',
      headers: auth,
      body: '{nope',
    });
    expect(bad.status).toBe(400);
    const ok = await fetch(relay.url + '/dead-letters/requeue', {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ ids: [1] }),
    });
    expect(await ok.json()).toEqual({ requeued: 0 });
  });
});

describe('the event stream', () => {
  it('caps subscribers and counts the refusals', async () => {
    const controllers = Array.from({ length: 3 }, () => new AbortController());
    const open = await Promise.all(
      controllers.map((c) =>
        fetch(relay.url + '/events/stream', { headers: auth, signal: c.signal }),
      ),
    );
    expect(open.map((r) => r.status)).toEqual([200, 200, 200]);
    await until(async () => (await statusView()).stream.subscribers == 3, { times: 50 });
    const fourth = await fetch(relay.url + '/events/stream', { headers: auth });
    expect(fourth.status).toBe(503);
    expect(fourth.headers.get('retry-after')).toBe('10');
    expect(await fourth.json()).toMatchObject({ error: 'too_many_subscribers' });
    expect((await statusView()).stream.refused).toBeGreaterThanOrEqual(1);
    controllers.forEach((c) => c.abort());
    await until(async () => (await statusView()).stream.subscribers == 0, { times: 50 });
  });

  it(
    'drops a subscriber that does not read once it is 64 KiB ' +
      'behind and closes its connection; one that reads stays',
    async () => {
      const port = Number(new URL(relay.url).port);
      const socket = connect(port, '127.0.0.1');
      let received = 0;
      let closed = false;
      socket.on('data', (d) => {
        received += d.length;
        // Reads the answer's head, then stops reading for good.
        socket.pause();
      });
      socket.on('error', () => {});
      socket.on('close', () => (closed = true));
      await new Promise((r) => socket.once('connect', r));
      socket.write(
        `GET /events/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`,
      );
      // Beside it, a subscriber that reads: it must keep up and stay.
      const controller = new AbortController();
      const reading = await fetch(relay.url + '/events/stream', {
        headers: auth,
        signal: controller.signal,
      });
      let readBytes = 0;
      const reader = reading.body!.getReader();
      void (async () => {
        for (;;) {
          const { done, value } = await reader
            .read()
            .catch(() => ({ done: true, value: undefined }));
          if (done) break;
          readBytes += value!.byteLength;
        }
      })();
      await until(async () => (await statusView()).stream.subscribers == 2, { times: 50 });
      const before = (await statusView()).stream.dropped;
      // ~100 KiB per batch: the kernel's socket buffers fill first, then the relay's queue.
      const padding = 'x'.repeat(1000);
      const started = performance.now();
      let sent = 0;
      let maxQueued = 0;
      while (performance.now() - started < 60_000 && sent < 400) {
        const events = Array.from({ length: 80 }, () =>
          pageview({ properties: { padding } } as never),
        );
        expect((await post(relay.url, batch(events))).status).toBe(200);
        sent++;
        const view = (await statusView()).stream;
        maxQueued = Math.max(maxQueued, view.queuedBytes);
        if (view.dropped > before) break;
      }
      const view = (await statusView()).stream;
      console.log(
        `slow subscriber dropped after ${sent} batches of ~100 KiB; relay queue ` +
          `peaked at ${maxQueued} bytes (cap 65536); client read ${received} bytes`,
      );
      expect(view.dropped).toBe(before + 1);
      expect(view.subscribers).toBe(1);
      // The cap plus at most one publish (one body's events, ~120 KiB here).
      expect(maxQueued).toBeLessThanOrEqual(65_536 + 200_000);
      expect(readBytes).toBeGreaterThan(sent * 100_000);
      controller.abort();
      // The relay ended the connection: once the client reads what the kernel buffered, it ends.
      socket.removeAllListeners('data');
      socket.resume();
      await until(() => closed, { times: 100 });
      socket.destroy();
    },
  );

  it('bounds replay= in bytes, keeping the newest events', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const event = pageview({ properties: { padding: 'y'.repeat(1000) } } as never);
      ids.push(event.id);
      expect((await post(relay.url, batch([event]))).status).toBe(200);
    }
    const controller = new AbortController();
    const response = await fetch(relay.url + '/events/stream?replay=1000', {
      headers: auth,
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    let text = '';
    // The replay arrives in one piece right after the opening comment.
    for (let i = 0; i < 5 && !text.includes(ids[9]); i++)
      text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    const replayed = text.split('\n').filter((l) => l.startsWith('data: '));
    expect(Buffer.byteLength(replayed.map((l) => l + '\n\n').join(''))).toBeLessThanOrEqual(6000);
    expect(replayed.length).toBeGreaterThanOrEqual(2);
    expect(replayed.length).toBeLessThan(10);
    expect(JSON.parse(replayed.at(-1)!.slice(6)).event.id).toBe(ids[9]);
  });
});
