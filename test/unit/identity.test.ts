import { beforeEach, describe, expect, it, vi } from 'vitest';
import { anonymousId, resetIdentity, takeAttribution, touchSession } from '../../src/core/identity';
import { Persist, setPersist } from '../../src/core/storage';

const MINUTE = 60_000;
const none = () => ({});

beforeEach(() => {
  localStorage.clear();
  resetIdentity();
  setPersist(Persist.All);
  vi.restoreAllMocks();
});

describe('identity', () => {
  it('creates a 21-character anonymous id once and keeps it in localStorage', () => {
    const id = anonymousId();
    expect(id).toMatch(/^[\w-]{21}$/);
    expect(anonymousId()).toBe(id);
    expect(localStorage.getItem('tracklet:aid')).toBe(id);
  });

  it('keeps the session while active and starts a new one after 30 minutes of inactivity', () => {
    const start = 1_000_000;
    const first = touchSession(start, 30 * MINUTE, none).id;
    expect(touchSession(start + 29 * MINUTE, 30 * MINUTE, none).id).toBe(first);
    // Activity at 29 minutes moved the window: 58 minutes after start is 29 after the last event.
    expect(touchSession(start + 58 * MINUTE, 30 * MINUTE, none).id).toBe(first);
    expect(touchSession(start + 89 * MINUTE, 30 * MINUTE, none).id).not.toBe(first);
  });

  it('starts a new session when the visitor lands with another campaign', () => {
    const first = touchSession(0, 30 * MINUTE, none, 'utm_source=a').id;
    expect(touchSession(1000, 30 * MINUTE, none, 'utm_source=a').id).toBe(first);
    expect(touchSession(2000, 30 * MINUTE, none).id).toBe(first);
    expect(touchSession(3000, 30 * MINUTE, none, 'utm_source=b').id).not.toBe(first);
  });

  it('hands the attribution to the first event of a session only', () => {
    const session = touchSession(0, 30 * MINUTE, () => ({ utm_source: 'x' }));
    expect(takeAttribution(session)).toEqual({ utm_source: 'x' });
    expect(takeAttribution(touchSession(1, 30 * MINUTE, none))).toBeUndefined();
  });

  it('falls back to memory when localStorage throws, without an error', () => {
    vi.spyOn(Storage.prototype, 'getItem').mockImplementation(() => {
      throw new DOMException('blocked', 'SecurityError');
    });
    vi.spyOn(Storage.prototype, 'setItem').mockImplementation(() => {
      throw new DOMException('quota', 'QuotaExceededError');
    });
    const id = anonymousId();
    expect(id).toMatch(/^[\w-]{21}$/);
    expect(anonymousId()).toBe(id);
    const session = touchSession(0, 30 * MINUTE, none).id;
    expect(touchSession(5000, 30 * MINUTE, none).id).toBe(session);
  });

  it('reset() gives a new anonymous id', () => {
    const id = anonymousId();
    resetIdentity();
    expect(anonymousId()).not.toBe(id);
  });
});
