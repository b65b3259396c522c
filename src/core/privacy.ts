/**
 * The gate between `emit` and the queue. Every event passes, in order: the page-wide blocks
 * (localhost or automated browser, Do Not Track / Global Privacy Control), a denied consent, the
 * excluded paths, session sampling, scrubbing, `beforeSend`; then it waits in memory while consent
 * is pending, or goes on to the queue.
 */
import type { Config } from './contract';
import type { TrackletEvent } from '../types';
import { log, warn } from './log';
import { safe } from './safe';
import { createScrubber, scrubEvent } from './scrub';
import { stats } from './stats';
import { clear, CONSENT_KEY, Persist, read, setPersist, write } from './storage';

/** Events tracked while consent is pending wait in memory, up to this many; later ones are dropped. */
export const MAX_WAITING = 100;

/** Dropped events, the gate's among them, visible in debug mode: the pipeline's counters (`stats.ts`). */
export const gateStats: { dropped: number } = stats;

/** The consent record's values; no record is a pending choice. */
const GRANTED = '1';
const DENIED = '0';

/** Hosts of a developer's own machine. */
const LOCAL = /^(localhost|127\.0\.0\.1|\[::1\])$/;

export interface Gate {
  /** Lets an event through to the queue, keeps it until consent, or drops it. */
  pass_(event: TrackletEvent): void;
  /** Records the visitor's choice: sends (true) or drops (false) the waiting events. */
  consent_(granted: boolean): void;
}

/**
 * `['/admin/*', '/checkout/*\/done']` → one expression matching whole paths: `*` matches anything,
 * and a trailing `/*` also matches the bare prefix (`/admin`).
 */
export const pathPattern = (patterns: string[]): RegExp =>
  // With no pattern this is /^()$/: it matches only '', and a path always starts with '/'.
  new RegExp(
    '^(' +
      patterns
        .map((pattern) =>
          pattern
            .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '.*')
            .replace(/\/\.\*$/, '(/.*)?'),
        )
        .join('|') +
      ')$',
  );

/** A number in [0, 1) derived from a session id (FNV-1a): the same on every page of the session. */
export const sampleOf = (sessionId: string): number => {
  let hash = 2166136261;
  for (let i = 0; i < sessionId.length; i++)
    hash = Math.imul(hash ^ sessionId.charCodeAt(i), 16777619);
  return (hash >>> 0) / 2 ** 32;
};

/**
 * The test every event must pass for two options of the gate: paths never tracked (`exclude`,
 * `data-exclude`) and the share of sessions tracked (`sampleRate`, `data-sample-rate`). Given the
 * validated options of `init()` or the attribute strings the third file reads; undefined when both
 * let every event through.
 */
export const filterOf = (features: {
  exclude?: unknown;
  sampleRate?: unknown;
}): ((event: TrackletEvent) => boolean) | undefined => {
  const { exclude, sampleRate } = features;
  const patterns =
    typeof exclude == 'string' ? exclude.split(',').map((item) => item.trim()) : exclude;
  const excluded =
    Array.isArray(patterns) &&
    patterns.length > 0 &&
    // A pattern that is no text (`/admin/`) is ignored with a warning: a throw here would leave
    // tracking off on every page.
    pathPattern(
      patterns.filter((pattern) =>
        typeof pattern == 'string'
          ? pattern
          : warn('exclude: not a path pattern, ignored:', pattern),
      ),
    );
  const rate = sampleRate == null || sampleRate === '' ? 1 : +sampleRate;
  if (!excluded && !(rate < 1)) return;
  return (event) =>
    !(excluded && excluded.test(event.path)) && !(sampleOf(event.sessionId) >= rate);
};

/**
 * Creates the gate for a tracker, and sets the storage persistence its consent state allows:
 * call it before anything reads or writes storage. `send` hands an event on to the queue.
 */
export const createPrivacy = (config: Config, send: (event: TrackletEvent) => void): Gate => {
  const { storage, sampleRate } = config;
  const nav = navigator as Navigator & { globalPrivacyControl?: boolean };
  // Decided once for the page, and said once in debug mode rather than once per event.
  const blocked =
    (!config.includeLocal &&
      (LOCAL.test(location.hostname) || nav.webdriver) &&
      (DEBUG
        ? 'localhost or an automated browser (data-include-local="true" tracks them)'
        : 'local: data-include-local="true"')) ||
    (config.privacySignals == 'respect' &&
      (nav.doNotTrack == '1' || nav.globalPrivacyControl) &&
      (DEBUG ? 'Do Not Track or Global Privacy Control' : 'DNT/GPC'));
  // Nothing to test (the usual case) costs nothing per event.
  const excluded = config.exclude.length > 0 && pathPattern(config.exclude);
  const scrub = config.scrub && createScrubber(config.scrubParams);
  const waiting: TrackletEvent[] = [];

  // The record is read with only itself allowed in storage; in cookieless mode there is none.
  setPersist(storage == 'none' ? Persist.None : Persist.Consent);
  let choice = read(CONSENT_KEY) || (config.consent == 'required' ? '' : GRANTED);
  const persist = () =>
    setPersist(
      blocked || storage == 'none'
        ? Persist.None
        : choice == GRANTED
          ? Persist.All
          : Persist.Consent,
    );
  persist();
  // Kept in the production build: "why is nothing sent from localhost?" is the first question.
  if (blocked) log('not tracking:', blocked);
  else if (DEBUG && !choice) log('waiting for consent');

  const drop = (reason: string | false, event: TrackletEvent) => {
    gateStats.dropped++;
    if (DEBUG) log('dropped by', reason, event);
  };

  return {
    pass_: (event) => {
      if (blocked) return void gateStats.dropped++;
      const excludedPath = excluded && excluded.test(event.path);
      if (
        choice == DENIED ||
        excludedPath ||
        (sampleRate < 1 && sampleOf(event.sessionId) >= sampleRate)
      )
        return drop(
          DEBUG && (choice == DENIED ? 'consent' : excludedPath ? 'exclude' : 'sampleRate'),
          event,
        );
      if (scrub) scrubEvent(event, scrub);
      // Read per event: a capture may chain its own step in front of the page's (`capture/decorate.ts`).
      const { beforeSend } = config;
      if (beforeSend) {
        // A hook that throws is reported in debug mode by safe(), and its event dropped: it may
        // have been there to remove something that must not be sent.
        const result = safe(beforeSend)(event);
        if (!result) return drop(DEBUG && 'beforeSend', event);
        event = result;
      }
      if (choice == GRANTED) send(event);
      else if (waiting.length < MAX_WAITING) waiting.push(event);
      else drop(DEBUG && 'over ' + MAX_WAITING + ' waiting', event);
    },
    consent_: (granted) => {
      if (typeof granted != 'boolean') return warn('consent() takes true or false, got', granted);
      choice = granted ? GRANTED : DENIED;
      // Denial forgets the visitor: ids, session and anything the pipeline kept.
      if (!granted) clear();
      persist();
      write(CONSENT_KEY, choice);
      const released = waiting.splice(0);
      if (DEBUG) log('consent', granted, released);
      if (granted) released.forEach(send);
      else gateStats.dropped += released.length;
    },
  };
};
