/** The relay's first-party script route serves the script tag's second file beside the first. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startRelay, type Relay } from '../../src/relay/index';
import { ensureBuilt } from './helpers';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 180_000 });

const DIST = join(import.meta.dirname, '..', '..', 'dist');
let relay: Relay;

beforeAll(ensureBuilt, 180_000);
beforeAll(async () => {
  relay = await startRelay({
    config: {
      script: { path: '/js/t.js', file: join(DIST, 'tracklet.js') },
      sites: { shop: { origins: ['*'] } },
    },
  });
});
afterAll(() => relay?.close());

describe('the first-party script route', () => {
  it(
    'serves tracklet.captures.js next to the script’s path, with its SRI hash and a daily ' +
      'revalidation',
    async () => {
      const file = readFileSync(join(DIST, 'tracklet.captures.js'));
      // Where the first file looks for it: `new URL('tracklet.captures.js', its own src)`.
      const url = new URL('tracklet.captures.js', relay.url + relay.script!.src).href;
      expect(new URL(url).pathname).toBe('/js/tracklet.captures.js');
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(Buffer.from(await response.arrayBuffer()).equals(file)).toBe(true);
      expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect(response.headers.get('cache-control')).toBe('public, max-age=86400');
      expect(response.headers.get('x-integrity')).toBe(
        'sha384-' + createHash('sha384').update(file).digest('base64'),
      );
      expect(readFileSync(join(DIST, 'tracklet.captures.js.sri'), 'utf8').trim()).toBe(
        response.headers.get('x-integrity'),
      );
      const head = await fetch(url, { method: 'HEAD' });
      expect([head.status, head.headers.get('etag')]).toEqual([200, response.headers.get('etag')]);
      // Only beside the script: elsewhere it is not served.
      expect((await fetch(relay.url + '/tracklet.captures.js')).status).toBe(404);
    },
  );
});
