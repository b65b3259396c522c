import type { Capture, Config, Context, EventFields, Hooks } from './core/contract';
import type { Properties, TrackletEvent } from './types';
import { attributionOf, campaignKey, campaignParams } from './core/attribution';
import { eventId } from './core/id';
import {
  anonymousId,
  resetIdentity,
  setUserId,
  takeAttribution,
  touchSession,
  userId,
  type Session,
} from './core/identity';
import { setDebug, warn } from './core/log';
import { createPrivacy } from './core/privacy';
import { createQueue } from './core/queue';
import { safe } from './core/safe';
import { sanitize } from './core/sanitize';
import { read, write } from './core/storage';

/** The public API of a started tracker. */
export interface Tracker {
  track(name: string, properties?: Properties): void;
  page(properties?: Properties): void;
  identify(userId: string, traits?: Properties): void;
  flush(): Promise<void>;
  reset(): void;
  getAnonymousId(): string;
  getSessionId(): string;
  consent(granted: boolean): void;
  /** Starts a capture that arrived after the tracker (the script tag's second file). */
  attach(capture: Capture): void;
  /** Stops the captures, removes the tracker's listeners and timers, and queues nothing more (TEARDOWN builds). */
  stop?(): void;
}

/** Starts a tracker with a validated config: captures first, then the hide-time flush. */
export const createTracker = (config: Config): Tracker => {
  setDebug(config.debug);
  const { spa } = config;
  const timeout = config.sessionTimeout * 60_000;
  const handlers: { [K in keyof Hooks]?: ((...args: Hooks[K]) => void)[] } = {};
  const fire = <K extends keyof Hooks>(hook: K, ...args: Hooks[K]) =>
    handlers[hook]?.forEach((handler) => safe(handler)(...args));
  // First: it sets how much may be stored, before the queue or the ids touch storage.
  const gate = createPrivacy(config, (event) => (TEARDOWN && stopped) || queue.push(event));
  const queue = createQueue(config);
  let stopped = false;
  /** What `stop()` undoes besides the queue: the captures, the history methods and the listeners. */
  const stops: (void | (() => void))[] = [];
  const flush = () => (pass(), queue.flush());
  // The landing's campaign is compared once, on this page's first event: it may start a new session.
  let landing: string | undefined = campaignKey(campaignParams(location.href));
  let lastPage = '';
  /** The last pageview queued: a capture attached later starts from it. */
  let view: TrackletEvent | undefined;
  let lastUrl = document.referrer;

  // What every event of a task shares is read once per task: `location` getters cost as much as the
  // rest of an event, and the ids and the session come from storage. A navigation through the
  // history API, a pageview, identify() and reset() start a new reading.
  let here:
    | [url: string, path: string, session?: Session, anonymousId?: string, userId?: string]
    | undefined;
  /** Starts a new reading (the callers use `here` when there is one: no call per event). */
  const whereNow = () => {
    here = [location.href, location.pathname + (spa == 'hash' ? location.hash : '')];
    queueMicrotask(() => (here = undefined));
    return here;
  };
  const path = () => (here || whereNow())[1];

  const session = (now: number) => {
    const current = touchSession(
      now,
      timeout,
      () => attributionOf(location.href, document.referrer),
      landing,
    );
    landing = undefined;
    return current;
  };

  const stamp = (fields: EventFields): TrackletEvent => {
    // An event of this task, stamped with its time, ids and place (one object, built in the wire
    // order), then its `fields` (track() sets its three itself: `Object.assign` is a runtime call).
    const now = Date.now();
    const task = here || whereNow();
    const current = (task[2] ||= session(now));
    const event = {
      id: eventId(),
      timestamp: now,
      anonymousId: (task[3] ||= anonymousId()),
      sessionId: current.id,
    } as TrackletEvent;
    // '' for none: read once per task like the others.
    const user = (task[4] ??= userId() || '');
    if (user) event.userId = user;
    event.url = task[0];
    event.path = task[1];
    Object.assign(event, fields);
    // Only a session's first event carries attribution: the others skip the call.
    if (current.pending) event.attribution = takeAttribution(current);
    return event;
  };

  const waiting: TrackletEvent[] = [];
  const pass = () => {
    // track() events go through the gate (checks, scrubbing, the queue) once per task, in a
    // microtask: a call only copies its properties and stamps the event. Whatever must see them
    // first (another event, consent(), flush(), the page going away) calls this before.
    for (const event of waiting.splice(0)) gate.pass_(event);
  };
  const passLater = safe(pass);
  /** A consent choice, from the page or a consent platform's capture: it applies to later events. */
  const consent = (granted: boolean) => {
    // A denial forgets the ids: events after it in this task read them afresh.
    here = undefined;
    pass();
    gate.consent_(granted);
  };

  const emit = (fields: EventFields): TrackletEvent => {
    const event = stamp(fields);
    waiting.push(event);
    pass();
    return event;
  };

  const page = (properties?: Properties, force?: boolean) => {
    // Without the fragment, but in hash mode (replacing '' by '' changes nothing).
    const url = whereNow()[0].replace(spa == 'hash' ? '' : /#.*/, '');
    if (url == lastPage && !force) return;
    fire('page');
    const event = emit({
      type: 'pageview',
      title: document.title,
      referrer: lastUrl,
      properties,
    });
    lastPage = lastUrl = url;
    view = event;
    fire('pageview', event);
  };

  const context: Context = {
    config,
    emit,
    path,
    flush,
    consent,
    read,
    write,
    on: (hook, handler) => {
      ((handlers[hook] ||= []) as (typeof handler)[]).push(handler);
    },
  };

  for (const capture of config.capture) stops.push(safe(capture)(context));

  /**
   * Follows the page's life: SPA navigations (history methods, `popstate`, `hashchange`), restores
   * from the back/forward cache, and page hide. Returns what undoes it (TEARDOWN builds).
   */
  const watchPage = () => {
    const onNavigate = safe(() => {
      here = undefined;
      page();
    });
    const originals = TEARDOWN && {
      pushState: history.pushState,
      replaceState: history.replaceState,
    };
    if (spa != 'off') {
      for (const method of ['pushState', 'replaceState'] as const) {
        const original = history[method];
        history[method] = function (this: History, ...args: Parameters<History['pushState']>) {
          const result = original.apply(this, args);
          onNavigate();
          return result;
        };
      }
      addEventListener('popstate', onNavigate);
      if (spa == 'hash') addEventListener('hashchange', onNavigate);
    }
    // A page restored from the back/forward cache is a new view of it.
    const onShow = safe(
      (event: PageTransitionEvent) =>
        event.persisted && config.autoPageview && page(undefined, true),
    );
    addEventListener('pageshow', onShow);
    // Registered after the captures (and, on window in the bubbling phase, after web-vitals' capture
    // listeners), so that what they queue on hide goes out with this flush. No `unload`: it would
    // keep the page out of the back/forward cache.
    const onHide = safe(() => {
      fire('hide');
      pass();
      queue.flush(true);
    });
    const onVisibility = () => document.visibilityState == 'hidden' && onHide();
    addEventListener('visibilitychange', onVisibility);
    addEventListener('pagehide', onHide);
    if (TEARDOWN)
      return () => {
        if (spa != 'off') Object.assign(history, originals);
        // Removing a listener that was never added (`hashchange` outside hash mode) does nothing.
        for (const type of ['popstate', 'hashchange']) removeEventListener(type, onNavigate);
        removeEventListener('pageshow', onShow);
        removeEventListener('visibilitychange', onVisibility);
        removeEventListener('pagehide', onHide);
      };
  };
  stops.push(watchPage());

  if (config.autoPageview) page();

  const tracker: Tracker = {
    track: (name, properties) => {
      // Event names and user ids are non-empty strings.
      if (typeof name != 'string' || !name) return warn('track() needs an event name, got', name);
      const task = here;
      // The task's later events without a user id (most calls): one literal in the wire order, of one
      // shape, with no call to stamp() and no property added afterwards. The task's reading is
      // complete (`task[4]` is set last) and its session's attribution taken (by the stamp() that
      // read it, which takes it before it returns): only a session's first event carries it.
      const event =
        task?.[4] === ''
          ? {
              id: eventId(),
              timestamp: Date.now(),
              anonymousId: task[3]!,
              sessionId: task[2]!.id,
              url: task[0],
              path: task[1],
              type: 'event' as const,
              name,
              properties: sanitize(properties),
            }
          : stamp({ type: 'event', name, properties: sanitize(properties) });
      waiting.push(event);
      // A beforeSend (the page's, or a capture's in front of it) sees each event as it is tracked.
      if (config.beforeSend) pass();
      else if (!waiting[1]) queueMicrotask(passLater);
    },
    page: (properties) => page(sanitize(properties), true),
    identify: (id, traits) => {
      if (typeof id != 'string' || !id) return warn('identify() needs a user id, got', id);
      setUserId(id);
      here = undefined;
      emit({ type: 'identify', userId: id, traits: sanitize(traits) });
    },
    flush,
    reset: () => {
      resetIdentity();
      here = landing = undefined;
    },
    getAnonymousId: anonymousId,
    getSessionId: () => session(Date.now()).id,
    consent,
    attach: (capture) => {
      const before = handlers.pageview?.length || 0;
      stops.push(safe(capture)(context));
      // The page view under way began before the capture arrived: it is told of it as it would have been.
      if (view) handlers.pageview?.slice(before).forEach((handler) => safe(handler)(view!));
    },
  };
  if (TEARDOWN)
    tracker.stop = () => {
      pass();
      stopped = true;
      queue.stop!();
      // Each undone on its own: a capture whose stop throws leaves the others to stop.
      for (const stop of stops.splice(0)) if (stop) safe(stop)();
    };
  return tracker;
};
