/**
 * A generic webhook: the wire format as is (`{ v: 1, site, sentAt, events }`, the events exactly
 * as the tracker sent them), POSTed as JSON in batches, with optional headers from the environment.
 */
import type { ConfigOf, Destination } from './types';
import { JsonText, jsonOnce, postBatches } from './util';

/** The webhook destination (`type: "webhook"`). */
export const webhook: Destination<ConfigOf<'webhook'>> = {
  accepts: () => true,
  batchSize: (config) => config.batchSize ?? 100,
  // Stateless, and each event carries its own time: a few batches may travel at once under load.
  lanes: () => 4,
  async deliver(deliveries, { config, post }) {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    for (const [key, value] of Object.entries(config.secrets))
      if (key.startsWith('header:')) headers[key.slice(7)] = value;
    const url = config.url ?? config.secrets.url;
    const items = deliveries.map((delivery) => ({ delivery, value: delivery.stored.event }));
    // `{ v: 1, site, sentAt, events }` with each event's JSON made once for every destination.
    return postBatches(items, config.batchSize ?? 100, (part) =>
      post(
        url,
        headers,
        new JsonText(
          `{"v":1,"site":${JSON.stringify(config.site)},"sentAt":${Date.now()},"events":[` +
            part.map((m) => jsonOnce(m.value)).join(',') +
            ']}',
        ),
      ),
    );
  },
};
