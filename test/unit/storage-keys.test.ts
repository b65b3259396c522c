// keys(): what the outbox finds its segments by, in localStorage and in this page's memory.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { clear, keys, Persist, read, setPersist, write } from '../../src/core/storage';

beforeEach(() => {
  vi.restoreAllMocks();
  localStorage.clear();
  clear();
  setPersist(Persist.All);
});

describe('storage keys()', () => {
  it("lists Tracklet's stored keys by prefix, sorted, without the prefix and without the site's keys", () => {
    write('o:b', '1');
    write('o:a', '2');
    write('aid', 'x');
    localStorage.setItem('o:c', 'site'); // the site's own key, not Tracklet's
    localStorage.setItem('tracklet:o:0', 'another tab');
    expect(keys('o:')).toEqual(['o:0', 'o:a', 'o:b']);
    expect(keys()).toEqual(['aid', 'o:0', 'o:a', 'o:b']);
  });

  it('lists the keys kept in memory (not persisted) beside the stored ones, once each', () => {
    write('o:stored', '1');
    setPersist(Persist.None);
    expect(write('o:memory', '2')).toBe(false);
    expect(write('o:stored', '3')).toBe(false); // in memory and in localStorage: listed once
    expect(keys('o:')).toEqual(['o:memory', 'o:stored']);
    expect(read('o:memory')).toBe('2');
  });

  it('lists memory keys when localStorage itself throws, and clear() empties both', () => {
    setPersist(Persist.None);
    write('o:page', '1');
    localStorage.setItem('tracklet:o:old', 'stored before');
    expect(keys('o:')).toEqual(['o:old', 'o:page']);
    const getter = vi.spyOn(window, 'localStorage', 'get').mockImplementation(() => {
      throw new DOMException('blocked', 'SecurityError');
    });
    expect(keys('o:')).toEqual(['o:page']);
    getter.mockRestore();
    clear();
    expect(keys()).toEqual([]);
    expect(localStorage.length).toBe(0);
  });
});
