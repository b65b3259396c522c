/**
 * The first file's tracker: ids and session, the privacy gate, the batch in front of the outbox,
 * pageviews (SPA included) and the hooks of the second and third files. Written for size: one
 * closure, the same stored keys and session record as the npm build's tracker (`src/tracker.ts`).
 */
import type { Capture, Config, Context, EventFields, Hooks } from '../core/contract';
import type { Attribution, Properties, TrackletEvent } from '../types';
import { attributionOf, campaignKey, campaignParams } from '../core/attribution';
import { eventId, randomId } from './id';
import { log, warn } from '../core/log';
import { safe } from './safe';
import { parse, sanitize, stringify } from './clean';
import { createScrub } from './scrub';
import { drop, stats } from '../core/stats';
import { createOutbox } from './outbox';
import { keys, read, remove, setLevel, write } from './storage';
import { listen, onStop, stop, stopped } from './teardown';

/** The session record, as `core/identity.ts` stores it. */
interface Session {
  id: string;
  last: number;
  campaign: string;
  pending?: Attribution;
}

/** What the events of one task share: URL, path, session, anonymous id, user id ('' none). */
type Task = [url: string, path: string, session?: Session, anonymousId?: string, userId?: string];

/** What the third file may add to the options: a test each event must pass (exclude, sampling). */
export type TagConfig = Config & { filter?: (event: TrackletEvent) => unknown };

/** The tracker's methods, as the public API calls them. */
export type Methods = Record<string, (...args: any[]) => unknown>;

/**
 * Why nothing is tracked on this page, if so: a developer's own machine or an automated browser
 * (unless `includeLocal`), or Do Not Track / Global Privacy Control (unless `privacySignals: ignore`).
 */
const blockedBy = (config: TagConfig) =>
  (!config.includeLocal &&
    (/^(localhost|127\.0\.0\.1|\[::1])$/.test(location.hostname) || navigator.webdriver) &&
    'local: data-include-local="true"') ||
  (config.privacySignals != 'ignore' &&
    (navigator.doNotTrack == '1' ||
      (navigator as { globalPrivacyControl?: boolean }).globalPrivacyControl) &&
    'DNT/GPC');

/**
 * A tracker. Its storage opens late: a page's first storage read costs it milliseconds of main
 * thread (5 ms at 4x throttle in Chromium), so it waits for the load event (at most 3 s), or for the
 * first call that needs storage. The events of the start are held till then, stamped with their
 * time and place when tracked; their ids and session are filled in then, in order.
 */
export const createTracker = (config: TagConfig): Methods => {
  const handlers: { [K in keyof Hooks]?: ((...args: Hooks[K]) => void)[] } = {};
  const fire = <K extends keyof Hooks>(hook: K, ...args: Hooks[K]) =>
    handlers[hook]?.forEach((handler) => safe(handler)(...args));
  const blocked = blockedBy(config);
  const none = blocked || config.storage == 'none';
  const persist = () => setLevel(none ? 0 : choice == '1' ? 2 : 1);
  if (blocked) log('not tracking:', blocked);
  const scrub = config.scrub && createScrub(config.scrubParams);

  // The landing's campaign is compared once, on this page's first event: it may start a new session.
  let landing: string | undefined = campaignKey(campaignParams(location.href));
  let lastPage = '';
  let lastUrl = document.referrer;
  let choice: string;
  /** The last pageview: a capture attached later starts from it. */
  let view: TrackletEvent | undefined;
  // What the events of one task share (read once).
  let here: Task | undefined;
  const whereNow = () => {
    here = [location.href, location.pathname + (config.spa == 'hash' ? location.hash : '')];
    queueMicrotask(() => (here = undefined));
    return here;
  };

  const anonymousId = () => {
    let id = read('aid');
    if (!id) write('aid', (id = randomId()));
    return id;
  };
  const saveSession = (session: Session) => write('session', stringify(session));
  /** The session at `now`: a new one after `sessionTimeout` idle minutes, or a landing with another campaign. */
  const session = (now: number, url: string) => {
    let current: Session | undefined;
    try {
      current = parse(read('session')!);
    } catch {
      // None stored, or unreadable: a new one.
    }
    if (
      typeof current?.id != 'string' ||
      !(now - current.last <= config.sessionTimeout * 60_000) ||
      (landing && landing != current.campaign)
    )
      saveSession(
        (current = {
          id: randomId(),
          last: now,
          campaign: landing || '',
          pending: attributionOf(url, document.referrer),
        }),
      );
    else if (now - current.last >= 1000) saveSession(((current.last = now), current));
    landing = undefined;
    return current;
  };

  let queue: (event: TrackletEvent) => void, flush: (hiding?: boolean) => Promise<unknown> | void;
  let held: TrackletEvent[] | 0 = []; // the events of the start, until storage opens
  const open = () => {
    if (!held) return;
    const events = held;
    held = 0;
    // The consent record is read with only itself allowed in storage.
    setLevel(none ? 0 : 1);
    choice = read('consent') || (config.consent == 'required' ? '' : '1');
    persist();
    ({ queue_: queue, flush_: flush } = createBatch(config));
    for (const event of events) {
      const user = ((here || whereNow())[4] ??= read('uid') || '');
      if (user) event.userId ||= user;
      stamp(event);
    }
    passLater();
  };

  // The gate: page-wide blocks, a denied consent, the third file's filter, scrubbing, beforeSend;
  // then the event waits in memory while consent is pending (up to 100), or is queued.
  const waiting: TrackletEvent[] = [];
  const pass = (event: TrackletEvent) => {
    if (blocked || choice == '0' || (config.filter && !config.filter(event)))
      return drop(1, DEBUG && 'by the privacy gate');
    // A hook that throws drops its event: it may have been there to remove something. So does a
    // scrub that throws (an attribution of another shape, from a session record a page wrote),
    // counted: a throw from here would lose the task's other events, and at the start reach the page.
    const result = safe(
      () => (scrub && scrub(event), config.beforeSend ? config.beforeSend(event) : event),
    )();
    if (!result) drop(1, DEBUG && 'beforeSend or scrub');
    else if (choice == '1') queue(result);
    else if (waiting.length < 100) waiting.push(result);
    else drop(1, DEBUG && 'over 100 waiting for consent');
  };

  // Custom events pass the gate once per task, in a microtask: a track() call only stamps its event.
  // Whatever must see them first (another event, consent(), flush(), the page going away) passes
  // them before, as does a beforeSend (it sees each event as it is tracked).
  const later: TrackletEvent[] = [];
  const passLater = () => later.splice(0).forEach(pass);
  const passSoon = safe(passLater);

  const flushAll = (hiding?: boolean) => (open(), passLater(), flush(hiding));

  const consent = (granted: boolean) => {
    if (typeof granted != 'boolean') return warn('consent() takes true or false:', granted);
    open();
    passLater();
    here = undefined;
    choice = granted ? '1' : '0';
    // Denial forgets the visitor: ids, session and anything kept.
    if (!granted) keys().forEach(remove);
    persist();
    write('consent', choice);
    const released = waiting.splice(0);
    if (granted) released.forEach(queue);
    else drop(released.length, DEBUG && 'consent denied');
  };

  /**
   * Gives an event its ids from storage (its session at its time, the visitor) and a session's first
   * event its attribution; then it waits for the gate.
   */
  const stamp = (event: TrackletEvent) => {
    const task = here || whereNow();
    const current = (task[2] ||= session(event.timestamp, event.url));
    event.anonymousId = task[3] ||= anonymousId();
    event.sessionId = current.id;
    // Only a session's first event carries attribution.
    if (current.pending)
      ((event.attribution = current.pending), delete current.pending, saveSession(current));
    later.push(event);
  };

  /**
   * An event of this task, stamped with its time and place, in the wire order, then `fields`; its
   * ids once storage is open (a held event's user id, if any, comes last).
   */
  const emit = (fields: EventFields, soon?: boolean): TrackletEvent => {
    const task = here || whereNow();
    const user = !held && (task[4] ??= read('uid') || '');
    // Constant-shaped literals (fast to make), no `userId` key without one.
    const event = (
      user
        ? {
            id: eventId(),
            timestamp: Date.now(),
            anonymousId: '',
            sessionId: '',
            userId: user,
            url: task[0],
            path: task[1],
            ...fields,
          }
        : {
            id: eventId(),
            timestamp: Date.now(),
            anonymousId: '',
            sessionId: '',
            url: task[0],
            path: task[1],
            ...fields,
          }
    ) as TrackletEvent;
    if (held) held.push(event);
    else {
      stamp(event);
      if (!soon || config.beforeSend) passLater();
      else if (!later[1]) queueMicrotask(passSoon);
    }
    return event;
  };

  const page = (properties?: Properties, force?: boolean) => {
    // Without the fragment, but in hash mode.
    const url = whereNow()[0].replace(config.spa == 'hash' ? '' : /#.*/, '');
    if (url == lastPage && !force) return;
    fire('page');
    view = emit({ type: 'pageview', title: document.title, referrer: lastUrl, properties });
    lastPage = lastUrl = url;
    fire('pageview', view);
  };

  const context: Context = {
    config,
    emit,
    flush: flushAll,
    consent,
    read: (key) => (open(), read(key)),
    write: ((key: string, value: string) => (open(), write(key, value))) as Context['write'],
    path: () => (here || whereNow())[1],
    on: (hook, handler) => {
      ((handlers[hook] ||= []) as (typeof handler)[]).push(handler);
    },
  };
  for (const capture of config.capture)
    TEARDOWN ? onStop(config, safe(capture)(context)) : safe(capture)(context);
  watchPage(config, page, () => (fire('hide'), flushAll(true)), open);
  if (config.autoPageview) page();

  const methods: Methods = {
    track: (name: string, properties?: Properties) => {
      // The relay refuses a name over 256 characters: such an event is refused here, and counted.
      if (typeof name != 'string' || !name || name[256])
        return (
          drop(1, DEBUG && 'no name'),
          warn('track() needs an event name (1-256 characters):', name)
        );
      emit({ type: 'event', name, properties: sanitize(properties) }, true);
    },
    page: (properties?: Properties) => page(sanitize(properties), true),
    identify: (id: string, traits?: Properties) => {
      // The relay refuses every event with a user id over 512 characters (a token, say): refused
      // here, the previous id is kept.
      if (typeof id != 'string' || !id || id[512])
        return warn('identify() needs an id (1-512 characters):', id);
      open();
      write('uid', id);
      here = undefined;
      emit({ type: 'identify', userId: id, traits: sanitize(traits) });
    },
    flush: () => flushAll(),
    reset: () => {
      open();
      'aid session uid'.split(' ').forEach(remove);
      here = landing = undefined;
    },
    getAnonymousId: () => (open(), anonymousId()),
    getSessionId: () => (open(), session(Date.now(), location.href).id),
    consent,
    attach: (capture: Capture) => {
      const before = handlers.pageview?.length || 0;
      TEARDOWN ? onStop(config, safe(capture)(context)) : safe(capture)(context);
      // The page view under way began before the capture arrived: it is told of it as it would have been.
      if (view) handlers.pageview?.slice(before).forEach((handler) => safe(handler)(view!));
    },
  };
  // Stops the captures, the listeners and the timers, and queues nothing more; what this task
  // tracked is stored for the next page. Compiled out of the builds.
  if (TEARDOWN) methods.stop = () => (passLater(), stop(config));
  return methods;
};

/**
 * The batch in front of the outbox: events of one task are stored together, and sent once
 * `batchSize` are waiting or `flushInterval` has passed.
 */
const createBatch = (config: TagConfig) => {
  const outbox = createOutbox(config);
  let batch: TrackletEvent[] = [];
  let unsent = 0;
  let ticking = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const store = () => batch.length && outbox.add_(batch.splice(0));
  /** Stores what is queued and sends it; `hiding`: by beacon, now. Resolves within 3 s. */
  const flush = (hiding?: boolean): Promise<unknown> | void => {
    clearTimeout(timer);
    timer = undefined;
    unsent = 0;
    store();
    // A stopped tracker sends nothing: what it stored waits for the next page.
    return TEARDOWN && stopped(config)
      ? Promise.resolve()
      : hiding
        ? outbox.hide_()
        : new Promise((done) => (outbox.drain_().then(done), setTimeout(done, 3000)));
  };
  const tick = safe(() => {
    ticking = false;
    if (TEARDOWN && stopped(config)) return;
    store();
    if (unsent >= config.batchSize) flush();
    else if (!timer && config.flushInterval) timer = setTimeout(safe(flush), config.flushInterval);
  });
  const queue = (event: TrackletEvent) => {
    if (TEARDOWN && stopped(config)) return;
    batch.push(event);
    unsent++;
    if (DEBUG) stats.queued++;
    if (DEBUG) log('queued', event.type, stats);
    if (!ticking) queueMicrotask((ticking = true) && tick);
  };

  // Stopped: what is queued is stored.
  if (TEARDOWN) onStop(config, () => flush());
  return { queue_: queue, flush_: flush };
};

/**
 * Follows the page's life: its load (storage opens then), SPA navigations (history methods,
 * `popstate`, `hashchange` in hash mode), restores from the back/forward cache, and page hide (no
 * `unload`: it would keep the page out of the back/forward cache).
 */
const watchPage = (
  config: TagConfig,
  page: (properties?: Properties, force?: boolean) => void,
  hide: () => void,
  open: () => void,
) => {
  // The tests' builds keep each listener and timer for stop() to remove.
  const on: (type: string, listener: (event: any) => unknown) => void = TEARDOWN
    ? (type, listener) => listen(config, type, listener)
    : addEventListener;
  // Storage opens in a task of its own once the page has loaded, at most 3 s from now.
  const opening = safe(open);
  if (document.readyState == 'complete') opening();
  else {
    const timer = setTimeout(opening, 3000);
    on('load', () => setTimeout(opening));
    if (TEARDOWN) onStop(config, () => clearTimeout(timer));
  }
  // page() reads the new address itself (a fresh `here`), and takes no argument from the event.
  const onNavigate = safe(() => page());
  if (config.spa != 'off') {
    for (const method of 'pushState replaceState'.split(' ') as ['pushState']) {
      const original = history[method];
      // A page that made them read-only keeps them (`popstate` still counts): the assignment
      // would throw out of the start into the page, with nothing tracked.
      try {
        // Both return nothing.
        history[method] = function (this: History, ...args: Parameters<History['pushState']>) {
          original.apply(this, args);
          onNavigate();
        };
      } catch {}
      if (TEARDOWN) onStop(config, () => (history[method] = original));
    }
    on('popstate', onNavigate);
    if (config.spa == 'hash') on('hashchange', onNavigate);
  }
  on(
    'pageshow',
    safe(
      (event: PageTransitionEvent) =>
        event.persisted && config.autoPageview && page(undefined, true),
    ),
  );
  // Registered after the captures, so that what they queue on hide goes out with this flush.
  const onHide = safe(hide);
  on('visibilitychange', () => document.visibilityState == 'hidden' && onHide());
  on('pagehide', onHide);
};
