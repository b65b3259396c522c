/**
 * Databuddy (basket API). Custom events and pageviews (`page_view`) go to `/track` in arrays of at
 * most 100, vitals to `/vitals` (≤ 20), errors to `/errors` (≤ 50), all `application/json`.
 * Rules from its ingestion service's validation: `name` 1–256 characters, at most 50 property keys
 * of ≤ 128 characters, properties ≤ 32 KB serialised, no `null` values, timestamps not in the future.
 * The Tracklet event `id` is sent as `eventId`, on which Databuddy dedupes.
 */
import type { TrackletEvent } from '../../types';
import type { StoredEvent } from '../store';
import type { ConfigOf, Destination, HttpResult, Outcome } from './types';
import { compact, isKnownEvent, join, mapEach, postBatches, withoutNulls } from './util';

/** The public basket API, the document's base URL. */
export const DATABUDDY_URL = 'https://basket.databuddy.cc';
const LIMITS = { track: 100, vitals: 20, errors: 50 } as const;
const MAX_KEYS = 50;
const MAX_KEY_LENGTH = 128;
const MAX_PROPERTIES_BYTES = 32_768;
const MAX_PATH = 2048;

/**
 * Databuddy's property rules: no nulls, ≤ 50 keys of ≤ 128 characters, ≤ 32 KB. Extra keys are
 * dropped, last first.
 */
export const boundProperties = (properties: Record<string, unknown>): Record<string, unknown> => {
  const clean = withoutNulls(properties) as Record<string, unknown>;
  const entries = Object.entries(clean)
    .filter(([key]) => key.length <= MAX_KEY_LENGTH)
    .slice(0, MAX_KEYS);
  while (
    entries.length &&
    JSON.stringify(Object.fromEntries(entries)).length > MAX_PROPERTIES_BYTES
  )
    entries.pop();
  return Object.fromEntries(entries);
};

/** Which endpoint an event goes to, or none (identify has no place in the documented API). */
const endpointOf = (event: TrackletEvent): keyof typeof LIMITS | undefined =>
  event.type == 'vital'
    ? 'vitals'
    : event.type == 'error'
      ? 'errors'
      : event.type == 'identify'
        ? undefined
        : 'track';

/** Fields every Databuddy item shares. */
const common = ({ event, time, receivedAt }: StoredEvent) => ({
  eventId: event.id,
  // The relay's clock is the truth: a corrected time is never ahead of when the event arrived.
  timestamp: Math.round(Math.min(time, receivedAt)),
  path: event.path.slice(0, MAX_PATH),
  anonymousId: event.anonymousId,
  sessionId: event.sessionId,
});

/** Maps one stored event to its Databuddy item. */
export const toDatabuddy = (stored: StoredEvent): Record<string, unknown> | undefined => {
  const { event } = stored;
  const campaign = { ...event.attribution };
  switch (event.type) {
    case 'pageview':
      return {
        ...common(stored),
        name: 'page_view',
        properties: boundProperties({
          page: event.path,
          url: event.url,
          title: event.title,
          referrer: event.referrer || undefined,
          ...campaign,
          ...event.properties,
          ...(event.status && { status: event.status }),
        }),
      };
    case 'event':
      return {
        ...common(stored),
        name: event.name.slice(0, 256),
        properties: boundProperties({ ...campaign, ...event.properties }),
      };
    case 'engagement':
      // As Databuddy's own tracker reports leaving a page.
      return {
        ...common(stored),
        name: 'page_exit',
        properties: boundProperties({
          time_on_page: Math.round(event.engagementTime / 1000),
          scroll_depth: Math.round(event.scrollDepth),
          interaction_count: event.interactionCount,
          page: event.path,
          pageview_id: event.pageviewId,
          ...campaign,
        }),
      };
    case 'vital':
      return { ...common(stored), metricName: event.metricName, metricValue: event.metricValue };
    case 'error':
      return compact({
        ...common(stored),
        message: event.message.slice(0, 2048),
        filename: event.filename?.slice(0, 1024),
        lineno: event.lineno,
        colno: event.colno,
        stack: event.stack?.slice(0, 8192),
        errorType: event.errorType.slice(0, 256),
      });
  }
};

/**
 * A 2xx whose body is Databuddy's error answer (`{"status":"error","message":…}`, which the
 * document shows without a status code) as a failure: the events were not taken, and counting
 * them delivered would lose them. Retried, then dead-lettered with the message.
 */
export const refusedInBody = (result: HttpResult): HttpResult => {
  const body = result.json as { status?: unknown; message?: unknown } | undefined;
  if (!result.ok || body?.status !== 'error') return result;
  return {
    ...result,
    ok: false,
    permanent: false,
    error: `HTTP ${result.status} with status "error": ${String(body.message ?? '').slice(0, 300)}`,
  };
};

/** The Databuddy destination (`type: "databuddy"`). */
export const databuddy: Destination<ConfigOf<'databuddy'>> = {
  accepts: ({ event }) => isKnownEvent(event) && endpointOf(event) != undefined,
  batchSize: (config) => Math.min(config.batchSize ?? LIMITS.track, LIMITS.track),
  async deliver(deliveries, { config, post }) {
    const base = config.baseUrl ?? DATABUDDY_URL;
    const clientId = encodeURIComponent(config.clientId);
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    const { mapped, failed } = mapEach(deliveries, (d) => toDatabuddy(d.stored));
    const outcomes: Outcome[] = [...failed];
    for (const endpoint of ['track', 'vitals', 'errors'] as const) {
      const mine = mapped.filter((m) => endpointOf(m.delivery.stored.event) == endpoint);
      const query = endpoint == 'track' ? `website_id=${clientId}` : `client_id=${clientId}`;
      const auth: Record<string, string> =
        endpoint == 'track' && config.secrets.apiKey
          ? { Authorization: `Bearer ${config.secrets.apiKey}` }
          : {};
      const size = Math.min(config.batchSize ?? LIMITS[endpoint], LIMITS[endpoint]);
      outcomes.push(
        ...(await postBatches(mine, size, async (part) =>
          refusedInBody(
            await post(
              join(base, `/${endpoint}?${query}`),
              { ...headers, ...auth },
              part.map((m) => m.value),
            ),
          ),
        )),
      );
    }
    return outcomes;
  },
};
