/**
 * The relay's side of the marketing features: 404 pageviews, properties on every event, form
 * submissions, the third file's route.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startRelay, type Relay } from '../../src/relay/index';
import { toDatabuddy } from '../../src/relay/destinations/databuddy';
import { toGrowlytics } from '../../src/relay/destinations/growlytics';
import { toTracardiPayload } from '../../src/relay/destinations/tracardi';
import { checkEvent } from '../../src/relay/schema';
import type { StoredEvent } from '../../src/relay/store';
import type { TrackletEvent } from '../../src/types';
import { ensureBuilt, pageview } from './helpers';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 180_000 });

const NOW = Date.now();
const stored = (event: TrackletEvent): StoredEvent => ({
  site: 'shop',
  event,
  receivedAt: NOW,
  time: NOW,
  skewMs: 0,
  ip: '203.0.113.9',
  userAgent: 'UA',
  bot: false,
});
const notFound = () =>
  pageview({ status: 404, path: '/missing', timestamp: NOW } as Partial<TrackletEvent>);

describe('schema', () => {
  it.each([
    ['a 404 pageview', { status: 404 }, true],
    ['a pageview with status 200', { status: 200 }, true],
    ['a status that is no HTTP status', { status: 42 }, false],
    ['a status as text', { status: '404' }, false],
    [
      'properties on a vital',
      {
        type: 'vital',
        metricName: 'LCP',
        metricValue: 1,
        rating: 'good',
        metricId: 'm',
        navigationType: 'navigate',
        properties: { plan: 'pro' },
      },
      true,
    ],
    [
      'properties that are not an object',
      {
        type: 'vital',
        metricName: 'LCP',
        metricValue: 1,
        rating: 'good',
        metricId: 'm',
        navigationType: 'navigate',
        properties: 'pro',
      },
      false,
    ],
  ])('%s → accepted %s', (_name, fields, accepted) => {
    const result = checkEvent({ ...pageview({ timestamp: NOW }), ...fields }, NOW, 0);
    expect('event' in result).toBe(accepted);
  });
});

describe('destinations', () => {
  it('give the status of a 404 pageview where they have a place for it', () => {
    expect(toDatabuddy(stored(notFound()))!.properties).toMatchObject({
      page: '/missing',
      status: 404,
    });
    expect(toGrowlytics(stored(notFound()), {}).body.attributes).toMatchObject({ status: 404 });
    expect(JSON.stringify(toTracardiPayload('src', [stored(notFound())]))).toContain(
      '"status":404',
    );
    // An ordinary pageview has none.
    expect(toDatabuddy(stored(pageview({ timestamp: NOW })))!.properties).not.toHaveProperty(
      'status',
    );
  });

  it('send form_submit as a named event with its form properties', () => {
    const submit = pageview({
      type: 'event',
      name: 'form_submit',
      properties: { form_id: 'signup', form_action: '/thanks' },
      timestamp: NOW,
    } as Partial<TrackletEvent>);
    expect(toDatabuddy(stored(submit))).toMatchObject({
      name: 'form_submit',
      properties: { form_id: 'signup', form_action: '/thanks' },
    });
    expect(toGrowlytics(stored(submit), {}).body).toMatchObject({
      name: 'form_submit',
      attributes: { form_id: 'signup' },
    });
  });
});

describe('the first-party script route', () => {
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

  it('serves tracklet.marketing.js next to the script’s path, with its SRI hash', async () => {
    const file = readFileSync(join(DIST, 'tracklet.marketing.js'));
    const response = await fetch(
      new URL('tracklet.marketing.js', relay.url + relay.script!.src).href,
    );
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).equals(file)).toBe(true);
    expect(response.headers.get('x-integrity')).toBe(
      'sha384-' + createHash('sha384').update(file).digest('base64'),
    );
    expect((await fetch(relay.url + '/tracklet.marketing.js')).status).toBe(404);
  });
});
