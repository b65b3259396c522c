// The third file's captures that shape events: properties on every event, 404 pages, forms.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { resolveConfig } from '../../../src/config';
import { beforeEach as beforeEachStep } from '../../../src/capture/decorate';
import { formProps, forms } from '../../../src/capture/forms';
import { markNotFound, notFound } from '../../../src/capture/notfound';
import { clearProps, getProps, parseProps, props, setProps } from '../../../src/capture/props';
import type { TrackletEvent } from '../../../src/types';
import { startCapture } from './context';

/** Runs an event through the config's beforeSend, as the gate does. */
const send = (test: ReturnType<typeof startCapture>, fields: Partial<TrackletEvent>) =>
  test.context.config.beforeSend!({
    id: 'x',
    timestamp: 0,
    anonymousId: 'a',
    sessionId: 's',
    url: location.href,
    path: location.pathname,
    ...fields,
  } as TrackletEvent) as TrackletEvent | null;

afterEach(() => {
  clearProps();
  vi.restoreAllMocks();
  document.body.innerHTML = '';
});

describe('beforeEach', () => {
  it(
    "runs the step before the page's own beforeSend, which sees " +
      'its result and may still drop the event; stops when told',
    () => {
      const config = resolveConfig(
        {
          endpoint: '/c',
          site: 's',
          beforeSend: (event: TrackletEvent) =>
            event.type == 'event' && event.name == 'drop' ? null : event,
        },
        false,
      )!;
      const stop = beforeEachStep(config, (event) => ((event as { mark?: number }).mark = 1));
      expect(config.beforeSend!({ type: 'event', name: 'keep' } as TrackletEvent)).toMatchObject({
        mark: 1,
      });
      expect(config.beforeSend!({ type: 'event', name: 'drop' } as TrackletEvent)).toBeNull();
      stop();
      expect(
        config.beforeSend!({ type: 'event', name: 'keep' } as TrackletEvent),
      ).not.toHaveProperty('mark');
    },
  );

  it('leaves the event as it was when the step throws', () => {
    const config = resolveConfig({ endpoint: '/c', site: 's' }, false)!;
    beforeEachStep(config, () => {
      throw new Error('broken step');
    });
    expect(config.beforeSend!({ type: 'event', name: 'a' } as TrackletEvent)).toMatchObject({
      name: 'a',
    });
  });
});

describe('props', () => {
  it("puts the shared properties under the event's own on every type; null removes a key", () => {
    const test = startCapture(props({ plan: 'pro', tier: 1 }));
    expect(
      send(test, { type: 'event', name: 'e', properties: { tier: 2 } } as Partial<TrackletEvent>)!
        .properties,
    ).toEqual({ plan: 'pro', tier: 2 });
    expect(
      send(test, { type: 'vital', metricName: 'LCP' } as Partial<TrackletEvent>)!.properties,
    ).toEqual({ plan: 'pro', tier: 1 });
    setProps({ plan: null, region: 'eu' });
    expect(getProps()).toEqual({ tier: 1, region: 'eu' });
    clearProps();
    expect(send(test, { type: 'event', name: 'e' } as Partial<TrackletEvent>)).not.toHaveProperty(
      'properties',
    );
  });

  it.each([
    ['{"plan":"pro"}', { plan: 'pro' }],
    ['[1,2]', undefined],
    ['"pro"', undefined],
    ['{plan:pro}', undefined],
    ['', undefined],
  ])('data-props=%j → %j (a bad one warns)', (text, expected) => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(parseProps(text)).toEqual(expected);
    expect(warn).toHaveBeenCalledTimes(expected || !text ? 0 : 1);
  });

  it('sanitises what is set: functions and cycles go, with one warning', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = cycle;
    setProps({ fn: () => 1, cycle, when: new Date(0) });
    expect(getProps()).toEqual({ cycle: { a: 1 }, when: '1970-01-01T00:00:00.000Z' });
    expect(warn).toHaveBeenCalledTimes(1);
    setProps('not an object');
    expect(getProps()).toEqual({ cycle: { a: 1 }, when: '1970-01-01T00:00:00.000Z' });
  });
});

describe('notFound', () => {
  it("gives the marked page's pageview status 404, and not the next page's", () => {
    history.replaceState({}, '', '/missing');
    const test = startCapture(notFound(true));
    expect(
      send(test, { type: 'pageview', path: '/missing' } as Partial<TrackletEvent>),
    ).toMatchObject({ status: 404 });
    expect(
      send(test, { type: 'event', name: 'e', path: '/missing' } as Partial<TrackletEvent>),
    ).not.toHaveProperty('status');
    expect(
      send(test, { type: 'pageview', path: '/found' } as Partial<TrackletEvent>),
    ).not.toHaveProperty('status');
    expect(
      send(test, { type: 'pageview', path: '/missing' } as Partial<TrackletEvent>),
    ).not.toHaveProperty('status');
  });

  it('marked after its pageview, sends no second pageview: the next page() of the same path carries it', () => {
    history.replaceState({}, '', '/spa-route');
    const test = startCapture(notFound());
    test.pageview();
    expect(test.events.filter((event) => event.type == 'pageview')).toHaveLength(1);
    markNotFound();
    expect(test.events.filter((event) => event.type == 'pageview')).toHaveLength(1);
    expect(
      send(test, { type: 'pageview', path: '/spa-route' } as Partial<TrackletEvent>),
    ).toMatchObject({ status: 404 });
  });
});

describe('forms', () => {
  it('sends form_submit with id, name, method and action path, never a value, and flushes', () => {
    document.body.innerHTML =
      `<form id="signup" name="news" method="POST" action="/thanks?email=bob@example.com#x"><input ` +
      `name="email" value="bob@example.com"><input name="id" value="shadow"><button>Go</button></form>`;
    const test = startCapture(forms());
    const form = document.querySelector('form')!;
    form.addEventListener('submit', (event) => event.preventDefault());
    form.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
    expect(test.events).toMatchObject([
      {
        type: 'event',
        name: 'form_submit',
        properties: {
          form_id: 'signup',
          form_name: 'news',
          form_method: 'post',
          form_action: '/thanks',
        },
      },
    ]);
    expect(JSON.stringify(test.events)).not.toContain('bob');
    expect(test.flushes).toBe(1);
  });

  it('names the host of an action on another site, and a button’s formaction wins', () => {
    document.body.innerHTML =
      `<form action="https://pay.example/checkout?x=1"><button ` +
      `formaction="/local">Go</button></form>`;
    const form = document.querySelector('form')!;
    expect(formProps(form)).toEqual({
      form_id: '',
      form_name: '',
      form_method: 'get',
      form_action: '/checkout',
      form_host: 'pay.example',
    });
    expect(formProps(form, document.querySelector('button'))).toMatchObject({
      form_action: '/local',
    });
  });

  it('stops listening when stopped', () => {
    document.body.innerHTML = `<form></form>`;
    const test = startCapture(() => {});
    const stop = forms()(test.context) as () => void;
    stop();
    document
      .querySelector('form')!
      .dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
    expect(test.events).toHaveLength(0);
  });
});
