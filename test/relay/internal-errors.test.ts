/** 5xx answers carry a generic message; the detail (hosts, queries, secrets) goes to the log only. */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/relay/config';
import { createHandler } from '../../src/relay/handler';
import { serve } from '../../src/relay/server';
import { openSqliteStore } from '../../src/relay/sqlite';
import type { Store } from '../../src/relay/store';
import { batch, pageview } from './helpers';

const SECRET = 'connect ECONNREFUSED 10.9.8.7:5432 (postgres://relay:hunter2@db.internal/events)';

const failingStore = (): Store => {
  const store = openSqliteStore();
  return Object.assign(Object.create(store), {
    status: () => Promise.reject(new Error(SECRET)),
    insertEvents: () => Promise.reject(new Error(SECRET)),
  });
};

describe('internal errors', () => {
  it('answers a failing /status with a generic 500 and logs the detail', async () => {
    const lines: string[] = [];
    const handler = createHandler({
      config: resolveConfig({ sites: { shop: { origins: ['*'] } } }),
      store: failingStore(),
      log: (line) => lines.push(line),
    });
    const response = await handler(new Request('http://relay/status'));
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({
      error: 'internal',
      message: 'the relay could not answer this request; the detail is in its log',
    });
    expect(text).not.toContain('hunter2');
    expect(lines.join('\n')).toContain(SECRET);
  });

  it('answers a store that is down with a generic 503 and Retry-After, and logs the detail', async () => {
    const lines: string[] = [];
    const handler = createHandler({
      config: resolveConfig({ sites: { shop: { origins: ['*'] } } }),
      store: failingStore(),
      log: (line) => lines.push(line),
    });
    const response = await handler(
      new Request('http://relay/collect', {
        method: 'POST',
        body: JSON.stringify(batch([pageview()])),
      }),
    );
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    const text = await response.text();
    expect(JSON.parse(text)).toMatchObject({
      error: 'store_unavailable',
      message: 'events not stored, send them again later',
    });
    expect(text).not.toMatch(/hunter2|10\.9\.8\.7|ECONNREFUSED/);
    expect(lines.join('\n')).toContain(SECRET);
  });

  it('answers a handler that throws, over node:http, with a generic 500 and logs the detail', async () => {
    const lines: string[] = [];
    const served = await serve(() => Promise.reject(new Error(SECRET)), {
      log: (line) => lines.push(line),
    });
    try {
      const response = await fetch(served.url + '/anything?q=1');
      expect(response.status).toBe(500);
      const text = await response.text();
      expect(JSON.parse(text)).toMatchObject({ error: 'internal' });
      expect(text).not.toContain('hunter2');
      expect(lines.join('\n')).toContain(SECRET);
      expect(lines.join('\n')).toContain('GET /anything?q=1');
    } finally {
      await served.close();
    }
  });
});
