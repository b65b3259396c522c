/** Property values Tracklet sends: JSON values after sanitising. */
export type PropertyValue =
  string | number | boolean | null | PropertyValue[] | { [key: string]: PropertyValue };
export type Properties = Record<string, PropertyValue>;

/** Campaign parameters and the referrer that started a session, keyed by parameter name. */
export type Attribution = Record<string, string>;

/** Fields every event carries. */
export interface BaseEvent {
  /** Unique per event, reused on every resend so a collector can count it once. */
  id: string;
  /** Epoch milliseconds when the event was tracked (the visitor's clock). */
  timestamp: number;
  anonymousId: string;
  sessionId: string;
  /** Present once `identify()` was called. */
  userId?: string;
  url: string;
  path: string;
  /** Only on the first event of a session. */
  attribution?: Attribution;
  /** Properties set for every event (`data-props`, `set()`), under the event's own; see docs/marketing.md. */
  properties?: Properties;
}

export interface PageviewEvent extends BaseEvent {
  type: 'pageview';
  title: string;
  referrer: string;
  properties?: Properties;
  /** 404 on a page marked not found (`data-not-found`, `notFound()`); absent otherwise. */
  status?: number;
}

export interface CustomEvent extends BaseEvent {
  type: 'event';
  name: string;
  properties?: Properties;
}

export interface IdentifyEvent extends BaseEvent {
  type: 'identify';
  userId: string;
  traits?: Properties;
}

export interface VitalEvent extends BaseEvent {
  type: 'vital';
  metricName: 'LCP' | 'CLS' | 'INP' | 'FCP' | 'TTFB';
  metricValue: number;
  rating: 'good' | 'needs-improvement' | 'poor';
  metricId: string;
  navigationType: string;
}

export interface ErrorEvent extends BaseEvent {
  type: 'error';
  message: string;
  filename?: string;
  lineno?: number;
  colno?: number;
  stack?: string;
  errorType: string;
  count?: number;
}

export interface EngagementEvent extends BaseEvent {
  type: 'engagement';
  engagementTime: number;
  scrollDepth: number;
  interactionCount: number;
  pageviewId: string;
}

/** One event on the wire, told apart by `type`. */
export type TrackletEvent =
  PageviewEvent | CustomEvent | IdentifyEvent | VitalEvent | ErrorEvent | EngagementEvent;

/** The canonical body: every event complete (wire version 1, still read by the relay). */
export interface Batch {
  v: 1;
  site: string;
  /** Epoch milliseconds when this body was handed to the network: lets a collector correct clock skew. */
  sentAt: number;
  events: TrackletEvent[];
}

/**
 * The body of every request the tracker sends (as `text/plain`, so no CORS preflight), version 2:
 * the fields every event of the body shares are sent once in `common`; event i is
 * `{ ...common, ...events[i] }`.
 */
export interface WireBatch {
  v: 2;
  site: string;
  sentAt: number;
  common?: Partial<TrackletEvent>;
  events: Partial<TrackletEvent>[];
}
