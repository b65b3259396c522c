import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clicks, DOWNLOADS, parseDownloads, propsOf } from '../../../src/capture/clicks';
import type { Context } from '../../../src/core/contract';
import { startCapture } from './context';

// The tests click links; the page must stay where it is.
beforeAll(() => document.addEventListener('click', (event) => event.preventDefault()));
beforeEach(() => {
  document.body.innerHTML = '';
});

const element = (html: string): HTMLElement => {
  const holder = document.createElement('div');
  holder.innerHTML = html;
  document.body.append(holder);
  return holder.firstElementChild as HTMLElement;
};

describe('click capture helpers', () => {
  it('reads data-tracklet-prop-* attributes as properties, names as written', () => {
    const button = element(
      '<button data-tracklet-event="signup" data-tracklet-prop-plan="pro" ' +
        'data-tracklet-prop-billing-cycle="yearly" data-other="x">Go</button>',
    );
    expect(propsOf(button)).toEqual({ plan: 'pro', 'billing-cycle': 'yearly' });
  });

  it.each([
    ['', []],
    ['false', []],
    [false, []],
    ['true', DOWNLOADS],
    [true, DOWNLOADS],
    ['pdf, .ZIP ,', ['pdf', 'zip']],
    [['epub'], ['epub']],
  ])('download extensions from %j', (value, expected) => {
    expect(parseDownloads(value)).toEqual(expected);
  });
});

describe('click capture', () => {
  it('sends the tagged event with its properties for a click anywhere inside the element', () => {
    const test = startCapture(clicks());
    const button = element(
      '<button data-tracklet-event="signup" data-tracklet-prop-plan="pro"><span>Sign up</span></button>',
    );
    button.querySelector('span')!.click();
    expect(test.events).toMatchObject([
      { type: 'event', name: 'signup', properties: { plan: 'pro' } },
    ]);
    expect(test.flushes).toBe(0);
  });

  it('works for elements added after it started, with one listener', () => {
    const test = startCapture(clicks());
    for (const name of ['a', 'b', 'c'])
      element(`<div data-tracklet-event="${name}">x</div>`).click();
    element('<div>untagged</div>').click();
    expect(test.events.map((event) => 'name' in event && event.name)).toEqual(['a', 'b', 'c']);
  });

  it('still sees a click that a page handler stops from propagating', () => {
    const test = startCapture(clicks());
    const button = element('<button data-tracklet-event="buy">Buy</button>');
    button.addEventListener('click', (event) => event.stopPropagation());
    button.click();
    expect(test.events).toHaveLength(1);
  });

  it('flushes at once when the tagged element is a link, so the event leaves before the page', () => {
    const test = startCapture(clicks());
    element('<a href="/pricing" data-tracklet-event="pricing">Pricing</a>').click();
    expect(test.events).toMatchObject([{ name: 'pricing', properties: {} }]);
    expect(test.flushes).toBe(1);
  });

  it('sends no outbound or download events unless switched on', () => {
    const test = startCapture(clicks());
    element('<a href="https://elsewhere.example/file.pdf">out</a>').click();
    expect(test.events).toHaveLength(0);
    expect(test.flushes).toBe(0);
  });

  it.each([
    ['https://elsewhere.example/page', ['outbound_click']],
    ['https://elsewhere.example/report.PDF', ['outbound_click', 'file_download']],
    ['/files/report.pdf?x=1', ['file_download']],
    ['/files/archive.zip', ['file_download']],
    ['/about', []],
    ['mailto:someone@example.com', []],
  ])('with outbound and downloads on, a link to %s sends %j', (href, names) => {
    const test = startCapture(clicks(), { outbound: true, downloads: 'true' });
    const link = element(`<a href="${href}">link</a>`);
    link.click();
    expect(test.events.map((event) => 'name' in event && event.name)).toEqual(names);
    for (const event of test.events)
      expect(event).toMatchObject({ properties: { url: (link as HTMLAnchorElement).href } });
    expect(test.flushes).toBe(names.length ? 1 : 0);
  });

  it('counts a middle click (new tab) on a download link, not a right click', () => {
    const test = startCapture(clicks({ downloads: ['csv'] }));
    const link = element('<a href="/export.csv">csv</a>');
    link.dispatchEvent(new MouseEvent('auxclick', { bubbles: true, button: 1 }));
    link.dispatchEvent(new MouseEvent('auxclick', { bubbles: true, button: 2 }));
    expect(test.events).toMatchObject([{ name: 'file_download' }]);
  });

  it('counts the clicks the first file kept before it arrived, and none of the errors kept with them', () => {
    const button = element('<button data-tracklet-event="early_cta">Go</button>');
    const kept: Event[] = [];
    const keep = (event: Event) => kept.push(event);
    document.addEventListener('click', keep, true);
    button.click();
    document.removeEventListener('click', keep, true);
    kept.push(new ErrorEvent('error', { message: 'kept error' }));
    const test = startCapture((context) => clicks()({ ...context, early: kept } as Context));
    expect(test.events).toMatchObject([{ type: 'event', name: 'early_cta' }]);
    button.click();
    expect(test.events.map((event) => event.type == 'event' && event.name)).toEqual([
      'early_cta',
      'early_cta',
    ]);
  });
});
