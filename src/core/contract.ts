/**
 * The contract between the tracker and its captures, in one file both sides import: the options a
 * capture reads (`Config`), what it is given (`Context`) and what it is (`Capture`).
 */
import type { TrackletEvent } from '../types';

/** Options of `init()`; on a script tag each is a `data-*` attribute (`batchSize` → `data-batch-size`). */
export interface TrackletOptions {
  /** Collector URL the batches are POSTed to. Required. */
  endpoint: string;
  /** Site (client) id sent with every batch. Required. */
  site: string;
  /** Send a pageview when the tracker starts. Default true. */
  autoPageview?: boolean;
  /**
   * Pageviews on SPA navigation: `history` (pushState, replaceState, popstate), `hash` (also
   * hashchange) or `off`. Default `history`.
   */
  spa?: 'history' | 'hash' | 'off';
  /** Flush when this many events are queued (1–100). Default 10. */
  batchSize?: number;
  /** Flush queued events after this many milliseconds (0 = only on batch size and page hide). Default 5000. */
  flushInterval?: number;
  /** Minutes without activity after which a new session starts (1–1440). Default 30. */
  sessionTimeout?: number;
  /** Events the outbox keeps for a retry; past it the oldest are dropped (1–100000). Default 1000. */
  outboxMaxEvents?: number;
  /** Bytes (UTF-8 JSON) the outbox keeps for a retry; past it the oldest are dropped. Default 524288 (512 KiB). */
  outboxMaxBytes?: number;
  /** Days after which an undelivered event is dropped (1–365). Default 7. */
  outboxMaxAge?: number;
  /** Log every step of the pipeline to the console. Default false. */
  debug?: boolean;
  /**
   * `required`: nothing is stored or sent until `consent(true)`; events wait in memory meanwhile.
   * Default `implied`.
   */
  consent?: 'implied' | 'required';
  /** `none`: no localStorage, sessionStorage or cookies; ids last for the page. Default `local`. */
  storage?: 'local' | 'none';
  /** `respect`: send nothing when the browser sends Do Not Track or Global Privacy Control. Default `respect`. */
  privacySignals?: 'respect' | 'ignore';
  /** Track localhost, 127.0.0.1 and automated browsers (`navigator.webdriver`) too. Default false. */
  includeLocal?: boolean;
  /** Paths never tracked: `*` matches anything, a trailing `/*` the path itself too (`/admin/*`). Default none. */
  exclude?: string[];
  /** Share of sessions tracked (0–1), decided once per session from its id. Default 1. */
  sampleRate?: number;
  /**
   * Mask e-mail addresses and sensitive URL parameters in every URL, referrer, attribution and
   * error text. Default true.
   */
  scrub?: boolean;
  /**
   * Compress the bodies: flushes gzip where the browser can, the page-hide beacon at once as zlib with
   * the preset dictionary. `false` (`data-compress="false"`) for a collector that cannot inflate.
   * Default true.
   */
  compress?: boolean;
  /** Parameter names masked on top of the defaults (`email`, `token`, `password`, `auth`, `key`, `session`…). */
  scrubParams?: string[];
  /**
   * npm only: sees every event after scrubbing; return it (changed or not) to send it, or `null` to
   * drop it. An event whose hook throws is dropped, and the error shown in debug mode.
   */
  beforeSend?: (event: TrackletEvent) => TrackletEvent | null | false;
  /** Script tag: Core Web Vitals capture (`data-vitals="false"` turns it off). Default true. */
  vitals?: boolean;
  /** Script tag: JavaScript error capture (`data-errors="false"` turns it off). Default true. */
  errors?: boolean;
  /** Script tag: clicks on `data-tracklet-event` elements (`data-clicks="false"` turns it off). Default true. */
  clicks?: boolean;
  /**
   * Script tag: engagement time, scroll depth and interactions (`data-engagement="false"` turns it
   * off). Default true.
   */
  engagement?: boolean;
  /** Errors sent per page view at most (1–1000). Default 20. */
  maxErrors?: number;
  /** Error messages to ignore: comma-separated substrings or `/regex/flags`. Default none. */
  ignoreErrors?: string;
  /** Send `outbound_click` for links to other hosts. Default false. */
  outbound?: boolean;
  /**
   * Send `file_download` for links to files: `"true"` for the usual extensions, or a comma list
   * (`"pdf,zip"`). Default off.
   */
  downloads?: string;
  /** npm only: the capture modules to run, e.g. `[vitals, errors]` (what is not imported is not bundled). */
  capture?: Capture[];
}

/**
 * Whether a switch is off: `false`, or `"false"` as a script tag gives it (its first file hands the
 * options its own code does not read to the other files as it found them: attribute text, or the
 * values given to `tracklet('init', …)`).
 */
export const off = (value: unknown): boolean => value === false || value === 'false';

/** Options after validation, every default filled in. */
export type Config = Required<Omit<TrackletOptions, 'capture' | 'beforeSend' | 'compress'>> &
  Pick<TrackletOptions, 'beforeSend' | 'compress'> & {
    capture: Capture[];
    /** The body encoder (wire version 4) and compressor, installed by `installEncoder` (core/encode.ts). */
    encode?: (site: string, events: TrackletEvent[]) => object;
    gzip?: (text: string) => Promise<Blob | string>;
    /** Compresses at once (the page-hide beacon), installed beside `gzip`. */
    zip?: (text: string) => Blob | string;
  };

/**
 * A capture module: started with the tracker's context, returns a function that stops it (removes
 * its listeners and timers).
 */
export type Capture = (context: Context) => void | (() => void);

/** Distributes a type over a union, so `Omit` keeps each event kind's own fields. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** What an event adds to the common fields (`id`, ids, `url`, `path`, `timestamp`). */
export type EventFields = DistributiveOmit<
  TrackletEvent,
  'id' | 'timestamp' | 'anonymousId' | 'sessionId' | 'url' | 'path'
> & { url?: string; path?: string };

/** Moments in the page's life that captures can hook into. */
export interface Hooks {
  /** A pageview is about to be sent: the previous page view has ended. */
  page: [];
  /** A pageview was queued. */
  pageview: [event: TrackletEvent];
  /** The page is being hidden: last chance to queue events before the hide-time flush. */
  hide: [];
}

/** What a capture module receives: the config, a way to emit events, and the page's lifecycle. */
export interface Context {
  config: Config;
  /** Queues an event with the common fields filled in; returns it. */
  emit(fields: EventFields): TrackletEvent;
  /** Subscribes to a lifecycle hook. */
  on<K extends keyof Hooks>(hook: K, handler: (...args: Hooks[K]) => void): void;
  /** The path as Tracklet reports it (with the hash in `spa: 'hash'` mode). */
  path(): string;
  /** Hands the queued events to the network now (before a navigation that may end the page). */
  flush(): void;
  /** Records a consent choice as `consent()` does (consent platforms, `consent/*.ts`). */
  consent?(granted: boolean): void;
  /** Tracklet's storage, as the pipeline sees it (consent and `storage` apply): the cross-domain linker. */
  read?(key: string): string | null;
  write?(key: string, value: string): boolean;
}
