// The cross-domain linker's rules: the parameter's freshness and browser check, hosts, URL surgery, adoption.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  adopt,
  browserHash,
  crossDomain,
  encodePayload,
  isLinked,
  MAX_AGE,
  PARAM,
  parseDomains,
  readPayload,
  withParam,
  type LinkerPayload,
} from '../../../src/capture/crossdomain';
import { read, write, clear } from '../../../src/core/storage';
import { startCapture } from './context';

const NOW = 1_700_000_000_000;
const payload = (over: Partial<LinkerPayload> = {}): LinkerPayload => ({
  v: 1,
  a: 'anon-1',
  s: 'sess-1',
  t: NOW,
  f: browserHash(),
  r: { utm_source: 'news' },
  ...over,
});

beforeEach(() => {
  clear();
  history.replaceState({}, '', '/');
});
afterEach(() => document.body.replaceChildren());

describe('readPayload', () => {
  it.each([
    ['fresh, this browser', payload(), NOW + 1000, 'ok'],
    ['exactly 2 minutes old', payload(), NOW + MAX_AGE, 'ok'],
    ['2 minutes and 1 ms old', payload(), NOW + MAX_AGE + 1, 'stale'],
    ['from the future beyond the skew', payload(), NOW - 6000, 'stale'],
    ['another browser', payload({ f: 'zzz' }), NOW, 'another browser'],
    ['an id that is not one', payload({ a: 'bad id!' }), NOW, 'malformed'],
    [
      'attribution with an object value',
      payload({ r: { x: {} as unknown as string } }),
      NOW,
      'malformed',
    ],
    ['another version', { ...payload(), v: 2 } as unknown as LinkerPayload, NOW, 'malformed'],
  ])('%s → %s', (_name, value, now, expected) => {
    const result = readPayload(encodePayload(value), now, browserHash());
    expect(typeof result == 'string' ? result : 'ok').toBe(expected);
  });

  it('refuses text that is not a payload', () => {
    expect(readPayload('%%%', NOW, browserHash())).toBe('unreadable');
    expect(readPayload(btoa('null'), NOW, browserHash())).toBe('malformed');
  });

  it('round-trips attribution with any characters', () => {
    const value = payload({
      r: { referrer: 'https://ö.example/?q=a&b=ü', utm_campaign: 'spring 🌸' },
    });
    expect(readPayload(encodePayload(value), NOW, browserHash())).toEqual(value);
  });
});

describe('hosts and URLs', () => {
  it.each([
    ['https://checkout.example/pay', true],
    ['https://eu.checkout.example/pay', true],
    ['https://notcheckout.example/', false],
    ['https://other.example/', false],
    ['mailto:a@checkout.example', false],
    [`${location.origin}/same-origin`, false],
  ])('%s → decorated %s', (url, expected) => {
    expect(isLinked(new URL(url), parseDomains(' Checkout.example , shop.example'))).toBe(expected);
  });

  it('an entry with a port names one origin', () => {
    expect(isLinked(new URL('http://127.0.0.1:4001/'), ['127.0.0.1:4001'])).toBe(true);
    expect(isLinked(new URL('http://127.0.0.1:4002/'), ['127.0.0.1:4001'])).toBe(false);
  });

  it.each([
    ['https://a.example/p', 'X', 'https://a.example/p?_tl=X'],
    ['https://a.example/p?q=1#top', 'X', 'https://a.example/p?q=1&_tl=X#top'],
    ['https://a.example/p?_tl=old&q=a%20b', 'X', 'https://a.example/p?q=a%20b&_tl=X'],
    ['https://a.example/p?q=1&_tl=old#h', '', 'https://a.example/p?q=1#h'],
    ['https://a.example/p?_tl=old', '', 'https://a.example/p'],
  ])('withParam(%s, %j) → %s', (url, value, expected) => {
    expect(withParam(url, value)).toBe(expected);
  });
});

describe('adopt', () => {
  const context = () => startCapture(() => {}, { includeLocal: true }).context;

  it(
    "takes a fresh link's ids and attribution before the " +
      'first pageview, and the parameter out of the address bar',
    () => {
      history.replaceState({ kept: 1 }, '', `/pay?step=1&${PARAM}=${encodePayload(payload())}#top`);
      const test = { ...context(), read, write };
      expect(adopt(test, NOW + 500)).toBeUndefined();
      expect(location.pathname + location.search + location.hash).toBe('/pay?step=1#top');
      expect(history.state).toEqual({ kept: 1 });
      expect(read('aid')).toBe('anon-1');
      expect(JSON.parse(read('session')!)).toMatchObject({
        id: 'sess-1',
        last: NOW + 500,
        campaign: '',
        pending: { utm_source: 'news' },
      });
    },
  );

  it('removes a stale link and adopts nothing', () => {
    history.replaceState({}, '', `/pay?${PARAM}=${encodePayload(payload())}`);
    expect(adopt({ ...context(), read, write }, NOW + MAX_AGE + 1)).toBe('stale');
    expect(location.search).toBe('');
    expect(read('aid')).toBeNull();
  });
});

describe('decoration', () => {
  it(
    'decorates a left or middle click to a listed host with ' +
      'the current ids, not a right click nor other hosts',
    () => {
      write('aid', 'anon-9');
      write('session', JSON.stringify({ id: 'sess-9', last: Date.now(), campaign: '' }));
      document.body.innerHTML =
        `<a id="in" href="https://checkout.example/pay">in</a><a ` +
        `id="out" href="https://elsewhere.example/">out</a>`;
      const test = startCapture(() => {});
      const stop = crossDomain(['checkout.example'])({
        ...test.context,
        read,
        write,
      }) as () => void;
      const link = document.getElementById('in') as HTMLAnchorElement;
      link.dispatchEvent(new MouseEvent('auxclick', { bubbles: true, button: 2 }));
      expect(link.href).not.toContain(PARAM);
      link.addEventListener('click', (event) => event.preventDefault());
      link.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true }));
      const value = new URL(link.href).searchParams.get(PARAM)!;
      expect(readPayload(value, Date.now(), browserHash())).toMatchObject({
        a: 'anon-9',
        s: 'sess-9',
      });
      const out = document.getElementById('out') as HTMLAnchorElement;
      out.addEventListener('click', (event) => event.preventDefault());
      out.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true }));
      expect(out.href).toBe('https://elsewhere.example/');
      stop();
    },
  );

  it('does not share ids while consent is pending', () => {
    write('aid', 'anon-9');
    document.body.innerHTML = `<a id="in" href="https://checkout.example/pay">in</a>`;
    const test = startCapture(() => {}, { consent: 'required' });
    const stop = crossDomain('checkout.example')({ ...test.context, read, write }) as () => void;
    const link = document.getElementById('in') as HTMLAnchorElement;
    link.addEventListener('click', (event) => event.preventDefault());
    link.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true }));
    expect(link.href).toBe('https://checkout.example/pay');
    stop();
  });
});
