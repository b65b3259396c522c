/**
 * Wire version 4 leaves out a vital's `navigationType: "navigate"` and a pageview's `referrer: ""`
 * (a collector fills them in): only for that type and that field, and only that exact value.
 */
import { describe, expect, it } from 'vitest';
import { canonicalBody } from '../../src/relay/wire';
import { encodeBody } from '../../src/core/encode';
import type { TrackletEvent } from '../../src/types';

const sentAt = 1_000_000;
const base = { anonymousId: 'a', sessionId: 's', url: 'https://shop.example/p', path: '/p' };

/** The events as the relay rebuilds them from the encoded body, and the text that went. */
const roundTrip = (events: object[]) => {
  const text = JSON.stringify(encodeBody('shop', events as TrackletEvent[], sentAt));
  const rebuilt = canonicalBody(JSON.parse(text)) as { body: { events: object[] } };
  return { text, events: rebuilt.body.events };
};

describe('wire version 4 defaults', () => {
  it('leaves out the two defaults, and the relay puts them back', () => {
    const events = [
      { ...base, id: 'x1', timestamp: sentAt - 5, type: 'pageview', title: 'P', referrer: '' },
      {
        ...base,
        id: 'x2',
        timestamp: sentAt - 4,
        type: 'vital',
        metricName: 'LCP',
        metricValue: 900,
        rating: 'good',
        metricId: 'v5-1',
        navigationType: 'navigate',
      },
    ];
    const { text, events: rebuilt } = roundTrip(events);
    expect(text).not.toContain('"navigate"');
    expect(text).not.toContain('"referrer"');
    expect(rebuilt).toEqual(events);
  });

  it('keeps the same values on other types and fields, and other values on those fields', () => {
    const events = [
      // The default of one type on another.
      {
        ...base,
        id: 'y1',
        timestamp: sentAt - 5,
        type: 'pageview',
        title: '',
        referrer: '',
        navigationType: 'navigate',
      },
      {
        ...base,
        id: 'y2',
        timestamp: sentAt - 4,
        type: 'vital',
        metricName: 'CLS',
        referrer: '',
        navigationType: 'prerender',
      },
      // Names that run together into a default's type and field.
      { ...base, id: 'y3', timestamp: sentAt - 3, type: 'vitalnavigation', Type: 'navigate' },
      { ...base, id: 'y4', timestamp: sentAt - 2, type: 'vital,navigation', Type: 'navigate' },
      { ...base, id: 'y5', timestamp: sentAt - 1, type: 'pageviewreferrer', name: 'e', '': '' },
      // Another value on a default's field.
      {
        ...base,
        id: 'y6',
        timestamp: sentAt,
        type: 'vital',
        metricName: 'INP',
        navigationType: 'reload',
      },
    ];
    const { text, events: rebuilt } = roundTrip(events);
    expect(text.match(/"navigate"/g)).toHaveLength(3);
    expect(rebuilt).toEqual(events);
  });
});
