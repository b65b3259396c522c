/**
 * Tracardi `/track`: one tracker payload per visitor session with `source.id`, `session.id`,
 * `profile.id` (once Tracardi has returned one: it is kept per visitor and sent on every later
 * call, as the document requires), `context` and `events[]`. Each event carries the Tracklet `id`
 * and its time as `time.create`, the field the server keeps. Optional fields are left out, never
 * `null`: a `null` in several of them crashes the server. A 2xx listing `errors` (the server then
 * answers 226) is a failure of the events it names, or of all: retried, then dead-lettered.
 */
import type { TrackletEvent } from '../../types';
import type { Delivery, StoredEvent } from '../store';
import type { ConfigOf, Destination, HttpResult, Outcome } from './types';
import {
  compact,
  isKnownEvent,
  join,
  mapEach,
  postBatches,
  propertiesOf,
  withoutNulls,
  type Mapped,
} from './util';

/** Tracardi's names for Tracklet's events; other custom events keep their name, kebab-cased. */
const NAMES: Record<string, string> = { add_to_cart: 'product-in-basket' };

const kebab = (name: string): string =>
  name
    .trim()
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .toLowerCase() || 'event';

/** The Tracardi event type of a Tracklet event. */
export const tracardiType = (event: TrackletEvent): string => {
  switch (event.type) {
    case 'pageview':
      return 'page-view';
    case 'event':
      return NAMES[event.name] ?? kebab(event.name);
    case 'identify':
      return 'identify';
    case 'vital':
      return 'web-vital';
    case 'error':
      return 'javascript-error';
    case 'engagement':
      return 'page-engagement';
  }
};

/** The properties of an event as Tracardi gets them. */
const propertiesFor = (event: TrackletEvent): Record<string, unknown> => {
  switch (event.type) {
    case 'pageview':
      return {
        pageTitle: event.title,
        ...propertiesOf(event),
        ...(event.status && { status: event.status }),
      };
    case 'identify':
      return { userId: event.userId, ...propertiesOf(event) };
    case 'vital':
      return {
        metricName: event.metricName,
        metricValue: event.metricValue,
        rating: event.rating,
        metricId: event.metricId,
        navigationType: event.navigationType,
      };
    case 'error':
      return compact({
        message: event.message,
        errorType: event.errorType,
        filename: event.filename,
        lineno: event.lineno,
        colno: event.colno,
        stack: event.stack,
        count: event.count,
      });
    case 'engagement':
      return {
        engagementTime: event.engagementTime,
        scrollDepth: event.scrollDepth,
        interactionCount: event.interactionCount,
        pageviewId: event.pageviewId,
      };
    default:
      return propertiesOf(event);
  }
};

/** One Tracardi event. */
export const toTracardiEvent = (stored: StoredEvent): Record<string, unknown> => {
  const { event } = stored;
  const page = compact({
    url: event.url,
    path: event.path,
    title: event.type == 'pageview' ? event.title : undefined,
    referrer: event.type == 'pageview' ? event.referrer : undefined,
  });
  return {
    id: event.id,
    type: tracardiType(event),
    properties: withoutNulls(propertiesFor(event)),
    time: { create: new Date(stored.time).toISOString() },
    context: { page, ...(event.attribution ? { campaign: event.attribution } : {}) },
    options: {},
  };
};

/** A tracker payload for events of one visitor session (`mapped`: their Tracardi events, when already made). */
export const toTracardiPayload = (
  sourceId: string,
  events: StoredEvent[],
  profileId?: string,
  mapped?: Record<string, unknown>[],
): Record<string, unknown> => {
  const first = events[0];
  return {
    source: { id: sourceId },
    session: { id: first.event.sessionId },
    ...(profileId ? { profile: { id: profileId } } : {}),
    context: compact({
      userAgent: first.userAgent,
      ip: first.ip,
      userId: events.find((e) => e.event.userId)?.event.userId,
    }),
    properties: {},
    events: mapped ?? events.map(toTracardiEvent),
    options: {},
  };
};

/** What a Tracardi answer says it failed at: an error, and per event named, that event's own. */
export interface TracardiErrors {
  error: string;
  /** Per Tracklet event id, its error; undefined when an entry names no event of the request (all failed). */
  events?: Map<string, string>;
}

/** One entry of Tracardi's `errors`: a message, or an object with `message` and maybe `event_id`. */
const readEntry = (entry: unknown): { message: string; eventId?: string } => {
  if (typeof entry == 'string') return { message: entry };
  const object = entry && typeof entry == 'object' ? (entry as Record<string, unknown>) : {};
  return {
    message: typeof object.message == 'string' ? object.message : JSON.stringify(entry),
    eventId: typeof object.event_id == 'string' ? object.event_id : undefined,
  };
};

/**
 * The `errors` of a 2xx Tracardi answer: the server's top-level list (it then answers 226) and the
 * document's `debugging.events.errors`. When every entry names an event of the request (`sent`:
 * their Tracklet ids), only those failed. Undefined for a failure, or a 2xx with no error listed.
 */
export const errorsInAnswer = (result: HttpResult, sent: string[]): TracardiErrors | undefined => {
  const body = result.json as
    { errors?: unknown; debugging?: { events?: { errors?: unknown } } } | undefined;
  const entries = [body?.errors, body?.debugging?.events?.errors]
    .flatMap((x) => (Array.isArray(x) ? (x as unknown[]) : []))
    .map(readEntry);
  if (!result.ok || !entries.length) return undefined;
  const describe = (messages: string[]) =>
    `HTTP ${result.status} with errors: ${messages.join('; ').slice(0, 300)}`;
  const error = describe(entries.map((x) => x.message));
  if (entries.some((x) => !x.eventId || !sent.includes(x.eventId))) return { error };
  const events = new Map<string, string>();
  for (const id of new Set(entries.map((x) => x.eventId!)))
    events.set(id, describe(entries.filter((x) => x.eventId == id).map((x) => x.message)));
  return { error, events };
};

/**
 * `result` as the outcome of `part`: a 2xx with `errors` fails every event, or only those it
 * names (recorded in `refused`, delivery id → error, and split out by `withRefused`).
 */
const checked = (
  result: HttpResult,
  part: Delivery[],
  refused: Map<number, string>,
): HttpResult => {
  const found = errorsInAnswer(
    result,
    part.map((x) => x.stored.event.id),
  );
  if (!found) return result;
  if (!found.events) return { ...result, ok: false, permanent: false, error: found.error };
  for (const x of part) {
    const error = found.events.get(x.stored.event.id);
    if (error) refused.set(x.id, error);
  }
  return result;
};

/** Splits the deliveries in `refused` out of the delivered outcomes, each a failure of its own. */
const withRefused = (outcomes: Outcome[], refused: Map<number, string>): Outcome[] =>
  outcomes.flatMap((o) => {
    if (!o.ok || !o.deliveries.some((x) => refused.has(x.id))) return [o];
    const taken = o.deliveries.filter((x) => !refused.has(x.id));
    return [
      ...(taken.length ? [{ ...o, deliveries: taken }] : []),
      ...o.deliveries
        .filter((x) => refused.has(x.id))
        .map((x): Outcome => ({ deliveries: [x], ok: false, error: refused.get(x.id) })),
    ];
  });

/** The Tracardi destination (`type: "tracardi"`). */
export const tracardi: Destination<ConfigOf<'tracardi'>> = {
  accepts: ({ event }) => isKnownEvent(event),
  batchSize: (config) => config.batchSize ?? 100,
  async deliver(deliveries, { config, post, getState, setState }) {
    const sourceId = config.secrets.sourceId ?? config.sourceId!;
    const { mapped, failed } = mapEach(deliveries, (d) => toTracardiEvent(d.stored));
    const sessions = new Map<string, Mapped<Record<string, unknown>>[]>();
    for (const m of mapped) {
      const key = m.delivery.stored.event.anonymousId + '\n' + m.delivery.stored.event.sessionId;
      sessions.set(key, [...(sessions.get(key) ?? []), m]);
    }
    const outcomes: Outcome[] = [...failed];
    // Deliveries a 2xx named in its `errors`, with the error: not taken, whatever the status says.
    const refused = new Map<number, string>();
    // One session at a time: a visitor's next call must carry the profile id the last one returned.
    for (const group of sessions.values()) {
      const visitor = group[0].delivery.stored.event.anonymousId;
      const send = async (part: Mapped<Record<string, unknown>>[]) => {
        const state = (await getState(visitor)) as { profileId?: string } | undefined;
        const payload = toTracardiPayload(
          sourceId,
          part.map((m) => m.delivery.stored),
          state?.profileId,
          part.map((m) => m.value),
        );
        const result = await post(
          join(config.baseUrl, '/track'),
          { 'Content-Type': 'application/json' },
          payload,
        );
        const returned = (result.json as { profile?: { id?: unknown } } | undefined)?.profile?.id;
        if (result.ok && typeof returned == 'string' && returned && returned != state?.profileId)
          await setState(visitor, { profileId: returned });
        return checked(
          result,
          part.map((m) => m.delivery),
          refused,
        );
      };
      outcomes.push(...(await postBatches(group, config.batchSize ?? 100, send)));
    }
    return withRefused(outcomes, refused);
  },
};
