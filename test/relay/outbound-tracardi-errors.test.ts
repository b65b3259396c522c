/**
 * Tracardi lists what it failed at in `errors` and still answers 2xx (its server: 226). Such an
 * answer is a failure, not a delivery: against the real relay in-process, the events are retried,
 * then dead-lettered with the message; when the errors name events (`event_id`), only those fail
 * and the others of the same request are delivered.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { errorsInAnswer } from '../../src/relay/destinations/tracardi';
import { startRelay } from '../../src/relay/index';
import type { TrackletEvent } from '../../src/types';
import { batch, pageview, post, until } from './helpers';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** A relay sending to a Tracardi whose answers `answer` makes from each request's events. */
const relayTo = async (answer: (events: { id: string; path: string }[]) => unknown) => {
  const requests: string[][] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', () => {
      const events = (
        JSON.parse(raw).events as { id: string; context: { page: { path: string } } }[]
      ).map((e) => ({ id: e.id, path: e.context.page.path }));
      requests.push(events.map((e) => e.path));
      const body = answer(events);
      res.writeHead(226, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(
    () =>
      new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  );
  const relay = await startRelay({
    config: {
      delivery: { pollMs: 20, attempts: 3, backoffBaseMs: 10, backoffMaxMs: 20 },
      sites: {
        shop: {
          origins: ['*'],
          destinations: [
            {
              type: 'tracardi',
              baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
              sourceId: 'source-1',
            },
          ],
        },
      },
    },
  });
  cleanup.push(() => relay.close());
  const settled = async () => {
    await until(
      async () => {
        const [counts] = await relay.store.status();
        return counts && counts.queued == 0;
      },
      { times: 200, everyMs: 50 },
    );
    return (await relay.store.status())[0];
  };
  return { relay, requests, settled };
};

/** Two pageviews of one session: one request carries both. */
const twoPageviews = (): TrackletEvent[] => {
  const first = pageview({ path: '/ok', url: 'https://shop.example/ok' });
  return [
    first,
    { ...pageview({ path: '/bad', url: 'https://shop.example/bad' }), sessionId: first.sessionId },
  ];
};

describe('a Tracardi 2xx with errors', () => {
  it('naming no event: every event is retried, then dead-lettered with the message', async () => {
    const { relay, requests, settled } = await relayTo(() => ({
      profile: { id: 'p-1' },
      errors: ['Could not save event. Error: index is read-only'],
      warnings: [],
    }));
    expect((await post(relay.url, batch(twoPageviews()))).status).toBe(200);
    const counts = await settled();
    expect(counts).toMatchObject({ delivered: 0, dead: 2 });
    expect(counts.lastError).toMatch(/HTTP 226 with errors: Could not save event/);
    expect(requests).toHaveLength(3);
  });

  it('naming events: only those fail; the others of the request are delivered once', async () => {
    const { relay, requests, settled } = await relayTo((events) => ({
      profile: { id: 'p-1' },
      errors: events
        .filter((e) => e.path == '/bad')
        .map((e) => ({ event_id: e.id, message: 'Validation failed' })),
    }));
    expect((await post(relay.url, batch(twoPageviews()))).status).toBe(200);
    const counts = await settled();
    expect(counts).toMatchObject({ delivered: 1, dead: 1 });
    expect(counts.lastError).toMatch(/HTTP 226 with errors: Validation failed/);
    expect(requests).toEqual([['/ok', '/bad'], ['/bad'], ['/bad']]);
  });
});

describe('errorsInAnswer', () => {
  const ok = { ok: true, status: 200, permanent: false };
  it('reads the documented debugging.events.errors too', () => {
    const found = errorsInAnswer(
      { ...ok, json: { debugging: { events: { saved: 0, errors: ['mapping conflict'] } } } },
      ['e1'],
    );
    expect(found).toEqual({ error: 'HTTP 200 with errors: mapping conflict' });
  });

  it('fails every event when an entry names an event not in the request', () => {
    const json = {
      errors: [
        { event_id: 'e1', message: 'a' },
        { event_id: 'other', message: 'b' },
      ],
    };
    expect(errorsInAnswer({ ...ok, json }, ['e1', 'e2'])?.events).toBeUndefined();
  });

  it('leaves an empty list, a plain 2xx and a failure alone', () => {
    expect(errorsInAnswer({ ...ok, json: { errors: [], warnings: [] } }, ['e1'])).toBeUndefined();
    expect(errorsInAnswer({ ...ok, status: 204 }, ['e1'])).toBeUndefined();
    const failed = { ok: false, status: 500, permanent: false, json: { errors: ['x'] } };
    expect(errorsInAnswer(failed, ['e1'])).toBeUndefined();
  });
});
