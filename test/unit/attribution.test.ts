import { describe, expect, it } from 'vitest';
import {
  attributionOf,
  campaignKey,
  campaignParams,
  isCampaignParam,
} from '../../src/core/attribution';

describe('attribution', () => {
  it.each([
    ['utm_source', true],
    ['utm_content', true],
    ['trc_cid', true],
    ['trc_agid', true],
    ['gclid', true],
    ['fbclid', true],
    ['msclkid', true],
    ['li_fat_id', true],
    ['page', false],
    ['utm', false],
    ['email', false],
  ])('%s is a campaign parameter: %s', (name, expected) => {
    expect(isCampaignParam(name)).toBe(expected);
  });

  it('keeps campaign parameters as strings, first value wins, others dropped', () => {
    expect(
      campaignParams('https://s.example/?utm_source=a&utm_source=b&trc_cid=7&q=x&GCLID=g'),
    ).toEqual({
      utm_source: 'a',
      trc_cid: '7',
      gclid: 'g',
    });
  });

  it('gives the same key to the same campaign in any order', () => {
    expect(campaignKey({ b: '2', a: '1' })).toBe(campaignKey({ a: '1', b: '2' }));
    expect(campaignKey({})).toBe('');
  });

  it('adds an external referrer, not an internal one', () => {
    expect(attributionOf('https://s.example/?utm_source=x', 'https://news.example/item')).toEqual({
      utm_source: 'x',
      referrer: 'https://news.example/item',
    });
    expect(attributionOf('https://s.example/a', 'https://s.example/b')).toEqual({});
    expect(attributionOf('https://s.example/a', '')).toEqual({});
  });
});
