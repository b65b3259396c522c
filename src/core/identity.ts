import type { Attribution } from '../types';
import { randomId } from './id';
import { readJSON, read, remove, write, writeJSON } from './storage';

/** The session as stored: id, last activity, the campaign it started with, attribution not yet sent. */
export interface Session {
  id: string;
  /** Last activity, epoch ms. */
  last: number;
  /** Campaign key of the landing that started it ('' for none). */
  campaign: string;
  /** Attribution waiting to ride on the session's first event. */
  pending?: Attribution;
}

const ANONYMOUS_KEY = 'aid';
const SESSION_KEY = 'session';
const USER_KEY = 'uid';

/** Activity within this window of the stored time is not written again (saves storage writes). */
const TOUCH_RESOLUTION = 1000;

const writeSession = (session: Session) => writeJSON(SESSION_KEY, session);

/** The visitor's anonymous id: created once, kept across visits. */
export const anonymousId = (): string => {
  let id = read(ANONYMOUS_KEY);
  if (!id) write(ANONYMOUS_KEY, (id = randomId()));
  return id;
};

export const userId = (): string | undefined => read(USER_KEY) ?? undefined;

export const setUserId = (id: string): void => {
  write(USER_KEY, id);
};

/**
 * The current session at `now`. A session ends after `timeout` ms without activity, or when the
 * visitor lands with a campaign (`landing`) other than the one the session started with.
 * Starting one computes its attribution with `attribution()`, which the first event then carries.
 */
export const touchSession = (
  now: number,
  timeout: number,
  attribution: () => Attribution,
  landing?: string,
): Session => {
  let session = readJSON<Session>(SESSION_KEY);
  if (
    !session ||
    typeof session.id != 'string' ||
    !(now - session.last <= timeout) ||
    (landing && landing != session.campaign)
  ) {
    const pending = attribution();
    session = { id: randomId(), last: now, campaign: landing || '', pending };
    writeSession(session);
  } else if (now - session.last >= TOUCH_RESOLUTION) {
    session.last = now;
    writeSession(session);
  }
  return session;
};

/** Takes the attribution of a session's first event, so that no later event repeats it. */
export const takeAttribution = (session: Session): Attribution | undefined => {
  const pending = session.pending;
  if (pending) {
    delete session.pending;
    writeSession(session);
  }
  return pending;
};

/** Forgets the visitor: new anonymous id and session on the next event, no user id. */
export const resetIdentity = (): void => {
  remove(ANONYMOUS_KEY);
  remove(SESSION_KEY);
  remove(USER_KEY);
};
