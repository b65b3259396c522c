// Consent platforms as the consent source: Google Consent Mode v2 (dataLayer) and IAB TCF v2.2 (__tcfapi).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { consentCommand, gcm } from '../../../src/consent/gcm';
import { tcf, tcfChoice, type TCData } from '../../../src/consent/tcf';
import { startCapture } from '../capture/context';

type Layer = unknown[] & { push: (...items: unknown[]) => number };
const win = window as unknown as { dataLayer?: Layer; __tcfapi?: unknown };
/** `gtag()` as Google's snippet defines it: it pushes its `arguments`. */
function gtag(..._args: unknown[]) {
  // eslint-disable-next-line prefer-rest-params
  win.dataLayer!.push(arguments);
}
const start = (capture: ReturnType<typeof gcm>) => {
  const choices: boolean[] = [];
  const test = startCapture(() => {});
  const stop = capture({
    ...test.context,
    consent: (granted) => choices.push(granted),
  }) as () => void;
  return { choices, stop };
};

afterEach(() => {
  delete win.dataLayer;
  delete win.__tcfapi;
  vi.useRealTimers();
});

describe('Google Consent Mode v2', () => {
  it.each([
    [
      ['consent', 'default', { analytics_storage: 'denied' }],
      ['default', 'denied'],
    ],
    [
      ['consent', 'update', { analytics_storage: 'granted', ad_storage: 'denied' }],
      ['update', 'granted'],
    ],
    [['consent', 'update', { ad_storage: 'granted' }], undefined],
    [['consent', 'default', { analytics_storage: 'granted', region: ['ES'] }], undefined],
    [['config', 'G-1', {}], undefined],
    [{ event: 'gtm.js' }, undefined],
    [['consent', 'update', { analytics_storage: 'yes' }], undefined],
  ])('%j → %j', (item, expected) => {
    expect(consentCommand(item)).toEqual(expected);
  });

  it('reads the commands already there, follows later ones both ways, and a default denied is no choice', () => {
    win.dataLayer = [] as unknown as Layer;
    gtag('consent', 'default', { analytics_storage: 'denied' });
    const { choices, stop } = start(gcm());
    expect(choices).toEqual([]);
    gtag('consent', 'update', { analytics_storage: 'granted' });
    gtag('consent', 'update', { analytics_storage: 'granted' });
    gtag('consent', 'update', { analytics_storage: 'denied' });
    expect(choices).toEqual([true, false]);
    stop();
    gtag('consent', 'update', { analytics_storage: 'granted' });
    expect(choices).toEqual([true, false]);
  });

  it('a default granted grants; an update already in the layer counts', () => {
    win.dataLayer = [] as unknown as Layer;
    gtag('consent', 'default', { analytics_storage: 'granted' });
    expect(start(gcm()).choices).toEqual([true]);
    win.dataLayer = [] as unknown as Layer;
    gtag('consent', 'default', { analytics_storage: 'denied' });
    gtag('consent', 'update', { analytics_storage: 'denied' });
    expect(start(gcm()).choices).toEqual([false]);
  });

  it(
    'sees each update once when a tag manager installs its own ' +
      'push over Tracklet’s, and the items still land in the array',
    () => {
      win.dataLayer = [] as unknown as Layer;
      const { choices } = start(gcm());
      const layer = win.dataLayer!;
      const seen: unknown[] = [];
      const previous = layer.push;
      layer.push = function (...items: unknown[]) {
        seen.push(...items);
        return previous.apply(layer, items);
      };
      gtag('consent', 'update', { analytics_storage: 'granted' });
      expect(choices).toEqual([true]);
      expect(seen).toHaveLength(1);
      expect(layer).toHaveLength(1);
    },
  );
});

describe('IAB TCF v2.2', () => {
  const data = (over: Partial<TCData>): TCData => ({
    gdprApplies: true,
    eventStatus: 'useractioncomplete',
    purpose: { consents: {} },
    ...over,
  });
  it.each([
    [data({ purpose: { consents: { 1: true, 8: true } } }), true],
    [data({ purpose: { consents: { 1: true } } }), false],
    [data({ purpose: { consents: { 8: true } } }), false],
    [data({ eventStatus: 'tcloaded', purpose: { consents: { 1: true, 8: true } } }), true],
    [data({ eventStatus: 'cmpuishown', purpose: { consents: { 1: true, 8: true } } }), undefined],
    [data({ gdprApplies: false, eventStatus: 'cmpuishown' }), true],
    [null, undefined],
  ])('%j → %s', (value, expected) => {
    expect(tcfChoice(value)).toBe(expected);
  });

  it('waits for a CMP that loads later, follows its changes, and removes its listener when stopped', () => {
    vi.useFakeTimers();
    const { choices, stop } = start(tcf());
    const listeners: ((d: TCData, ok: boolean) => void)[] = [];
    const removed: unknown[] = [];
    vi.advanceTimersByTime(1000);
    win.__tcfapi = (
      command: string,
      version: number,
      callback: (d: TCData, ok: boolean) => void,
      parameter?: unknown,
    ) => {
      if (version != 2) return;
      if (command == 'addEventListener') {
        listeners.push(callback);
        callback(data({ eventStatus: 'cmpuishown', listenerId: 0 }), true);
      }
      if (command == 'removeEventListener') removed.push(parameter);
    };
    vi.advanceTimersByTime(200);
    expect(listeners).toHaveLength(1);
    expect(choices).toEqual([]);
    listeners[0](data({ listenerId: 0, purpose: { consents: { 1: true, 8: true } } }), true);
    listeners[0](data({ listenerId: 0, purpose: { consents: { 1: true, 8: false } } }), true);
    listeners[0](data({ listenerId: 0, purpose: { consents: { 1: true, 8: true } } }), false);
    expect(choices).toEqual([true, false]);
    stop();
    expect(removed).toEqual([0]);
  });

  it('gives up looking for a CMP after 10 s', () => {
    vi.useFakeTimers();
    const { choices } = start(tcf());
    vi.advanceTimersByTime(11_000);
    let calls = 0;
    win.__tcfapi = () => calls++;
    vi.advanceTimersByTime(1000);
    expect([calls, choices]).toEqual([0, []]);
  });
});
