/** Shared by the collector tests: build once, run the relay CLI as a child, post batches, wait (bounded). */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Batch, TrackletEvent } from '../../src/types';

const ROOT = join(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'relay', 'cli.js');

const newest = (dir: string): number =>
  readdirSync(dir, { withFileTypes: true }).reduce(
    (t, e) =>
      Math.max(
        t,
        e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs,
      ),
    0,
  );

/** Builds dist/ (node build.mjs) when the relay build is missing or older than its sources; one build at a time. */
export const ensureBuilt = async (): Promise<void> => {
  const stale = () =>
    !existsSync(CLI) || statSync(CLI).mtimeMs < Math.max(newest(join(ROOT, 'src')), 0);
  if (!stale()) return;
  const lock = join(ROOT, '.tmp', 'build.lock');
  mkdirSync(join(ROOT, '.tmp'), { recursive: true });
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Another test file is building; a lock older than two minutes is left over from a crash.
      if (Date.now() - statSync(lock).mtimeMs > 120_000)
        rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error('timed out waiting for the build lock');
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    if (stale()) execFileSync('node', ['build.mjs'], { cwd: ROOT, stdio: 'pipe' });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
};

/** A fresh temporary directory under the OS temp dir. */
export const tempDir = (): string => mkdtempSync(join(tmpdir(), 'tracklet-relay-'));

export interface RelayProcess {
  url: string;
  child: ChildProcess;
  stderr: () => string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
  /** SIGKILL: no cleanup at all. */
  kill(): Promise<void>;
}

/** Starts `node dist/relay/cli.js` with a config file and waits for its "listening" line (≤ 15 s). */
export const startCli = async (
  configPath: string,
  storage: string,
  env: Record<string, string> = {},
): Promise<RelayProcess> => {
  const child = spawn(
    process.execPath,
    [CLI, '--config', configPath, '--port', '0', '--storage', storage],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('relay did not start: ' + err)), 15_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`relay exited with ${code}: ${err}`));
    });
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    url,
    child,
    stderr: () => err,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
};

/** Writes a config file and returns its path. */
export const writeConfig = (dir: string, config: unknown): string => {
  const path = join(dir, 'relay.json');
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
};

/** POSTs a batch as the tracker does (text/plain) from an allowed origin. */
export const post = (
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> =>
  fetch(url + '/collect', {
    method: 'POST',
    headers: {
      'Content-Type': 'text/plain;charset=UTF-8',
      Origin: 'https://shop.example',
      'User-Agent': UA,
      ...headers,
    },
    body: typeof body == 'string' ? body : JSON.stringify(body),
  });

export const UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';

/** Polls `check` every `everyMs` until it returns a truthy value, at most `times` times. */
export const until = async <T>(
  check: () => Promise<T> | T,
  { times = 400, everyMs = 100 } = {},
): Promise<T> => {
  let last: T | undefined;
  let error: unknown;
  for (let i = 0; i < times; i++) {
    // A request that meets a connection closed under it (a keep-alive socket of a process that
    // was just killed) is a try that did not succeed, not a failed test.
    try {
      last = await check();
      if (last) return last;
    } catch (failure) {
      error = failure;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(
    `condition not met after ${times} tries; last: ${JSON.stringify(last)} ${error ?? ''}`,
  );
};

/** GET /status with the admin token. */
export const status = async (url: string, token?: string) => {
  const response = await fetch(url + '/status', {
    headers: token ? { Authorization: `Bearer ${token}` } : {},
  });
  return (await response.json()) as {
    events: number;
    destinations: {
      destination: string;
      queued: number;
      retrying: number;
      delivered: number;
      dead: number;
      lastError?: string;
      counters: Record<string, number>;
    }[];
  };
};

/** A batch around events, sent now. */
export const batch = (events: TrackletEvent[], site = 'shop', sentAt = Date.now()): Batch => ({
  v: 1,
  site,
  sentAt,
  events,
});

let seq = 0;
/** A minimal valid pageview. */
export const pageview = (over: Partial<TrackletEvent> = {}): TrackletEvent =>
  ({
    type: 'pageview',
    id: `pv-${++seq}-${Math.random().toString(36).slice(2, 8)}`,
    timestamp: Date.now(),
    anonymousId: 'anon-1',
    sessionId: 'sess-1',
    url: 'https://shop.example/',
    path: '/',
    title: 'Home',
    referrer: '',
    ...over,
  }) as TrackletEvent;
