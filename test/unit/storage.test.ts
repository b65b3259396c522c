import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  clear,
  CONSENT_KEY,
  Persist,
  persisting,
  read,
  remove,
  setPersist,
  write,
} from '../../src/core/storage';

beforeEach(() => {
  vi.restoreAllMocks();
  localStorage.clear();
  clear();
  setPersist(Persist.All);
});

describe('storage', () => {
  it.each([
    [Persist.All, { 'tracklet:aid': 'a', 'tracklet:consent': '1' }],
    [Persist.Consent, { 'tracklet:consent': '1' }],
    [Persist.None, {}],
  ])('at level %s stores %j, and keeps every value readable for the page', (level, stored) => {
    setPersist(level);
    write('aid', 'a');
    write(CONSENT_KEY, '1');
    expect({ ...localStorage }).toEqual(stored);
    expect(read('aid')).toBe('a');
    expect(read(CONSENT_KEY)).toBe('1');
    expect(persisting()).toBe(level == Persist.All);
  });

  it('copies what was kept in memory when persistence is switched on (consent granted)', () => {
    setPersist(Persist.Consent);
    write('aid', 'a');
    write('session', '{"id":"s"}');
    expect(localStorage.length).toBe(0);
    setPersist(Persist.All);
    expect({ ...localStorage }).toEqual({ 'tracklet:aid': 'a', 'tracklet:session': '{"id":"s"}' });
  });

  it('does not read what another page stored while persistence is off', () => {
    localStorage.setItem('tracklet:aid', 'stored');
    setPersist(Persist.None);
    expect(read('aid')).toBeNull();
  });

  it("clear() removes every tracklet: key and the memory copies, and nothing of the site's", () => {
    localStorage.setItem('site', 'keep');
    write('aid', 'a');
    localStorage.setItem('tracklet:outbox', '[]');
    clear();
    expect({ ...localStorage }).toEqual({ site: 'keep' });
    expect(read('aid')).toBeNull();
  });

  it('keeps no memory copy of what reached localStorage: a key another tab removed stays removed', async () => {
    write('seg:1', 'events');
    await Promise.resolve(); // the next task reads afresh
    localStorage.removeItem('tracklet:seg:1'); // another tab confirmed the segment
    expect(read('seg:1')).toBeNull();
  });

  it('remove() forgets one key', () => {
    write('uid', 'u');
    remove('uid');
    expect(read('uid')).toBeNull();
    expect(localStorage.length).toBe(0);
  });

  it('never sets a cookie or touches sessionStorage', () => {
    const session = vi.spyOn(sessionStorage, 'setItem');
    write('aid', 'a');
    setPersist(Persist.None);
    write('aid', 'b');
    clear();
    expect(document.cookie).toBe('');
    expect(session).not.toHaveBeenCalled();
  });
});
