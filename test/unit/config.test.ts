import { afterEach, describe, expect, it, vi } from 'vitest';
import { attributeName, fromAttributes, resolveConfig } from '../../src/config';

afterEach(() => vi.restoreAllMocks());

const tag = (attributes: Record<string, string>) => {
  const script = document.createElement('script');
  for (const [name, value] of Object.entries(attributes)) script.setAttribute(name, value);
  return fromAttributes(script);
};

describe('config', () => {
  it('maps option names to data attributes', () => {
    expect(attributeName('batchSize')).toBe('data-batch-size');
    expect(attributeName('spa')).toBe('data-spa');
  });

  it('fills in the defaults with only endpoint and site', () => {
    expect(
      resolveConfig(tag({ 'data-endpoint': 'https://c.example/collect', 'data-site': 's1' }), true),
    ).toEqual({
      endpoint: 'https://c.example/collect',
      site: 's1',
      autoPageview: true,
      spa: 'history',
      batchSize: 10,
      flushInterval: 5000,
      sessionTimeout: 30,
      outboxMaxEvents: 1000,
      outboxMaxBytes: 524288,
      outboxMaxAge: 7,
      debug: false,
      consent: 'implied',
      storage: 'local',
      privacySignals: 'respect',
      includeLocal: false,
      exclude: [],
      sampleRate: 1,
      scrub: true,
      scrubParams: [],
      vitals: true,
      errors: true,
      clicks: true,
      engagement: true,
      maxErrors: 20,
      ignoreErrors: '',
      outbound: false,
      downloads: '',
      capture: [],
    });
  });

  it('resolves a relative endpoint against the page', () => {
    expect(resolveConfig({ endpoint: '/collect', site: 's' }, false)?.endpoint).toBe(
      new URL('/collect', location.href).href,
    );
  });

  it.each([
    [{ 'data-auto-pageview': 'false' }, { autoPageview: false }],
    [{ 'data-debug': '' }, { debug: true }],
    [{ 'data-debug': 'true' }, { debug: true }],
    [{ 'data-spa': 'hash' }, { spa: 'hash' }],
    [{ 'data-batch-size': '25' }, { batchSize: 25 }],
    [{ 'data-flush-interval': '0' }, { flushInterval: 0 }],
    [{ 'data-session-timeout': '45' }, { sessionTimeout: 45 }],
    [{ 'data-consent': 'required' }, { consent: 'required' }],
    [{ 'data-storage': 'none' }, { storage: 'none' }],
    [{ 'data-privacy-signals': 'ignore' }, { privacySignals: 'ignore' }],
    [{ 'data-include-local': 'true' }, { includeLocal: true }],
    [{ 'data-exclude': '/admin/*, /private ,,' }, { exclude: ['/admin/*', '/private'] }],
    [{ 'data-exclude': '' }, { exclude: [] }],
    [{ 'data-sample-rate': '0.25' }, { sampleRate: 0.25 }],
    [{ 'data-scrub': 'false' }, { scrub: false }],
    [{ 'data-scrub-params': 'ref,user_id' }, { scrubParams: ['ref', 'user_id'] }],
    [
      {
        'data-vitals': 'false',
        'data-errors': 'false',
        'data-clicks': 'false',
        'data-engagement': 'false',
      },
      { vitals: false, errors: false, clicks: false, engagement: false },
    ],
    [
      { 'data-max-errors': '5', 'data-ignore-errors': 'Script error., /^x/' },
      { maxErrors: 5, ignoreErrors: 'Script error., /^x/' },
    ],
    [{ 'data-ignore-errors': '' }, { ignoreErrors: '' }],
    [
      { 'data-outbound': 'true', 'data-downloads': 'pdf,zip' },
      { outbound: true, downloads: 'pdf,zip' },
    ],
  ])('reads %j', (attributes, expected) => {
    const config = resolveConfig(
      tag({ 'data-endpoint': '/c', 'data-site': 's', ...attributes }),
      true,
    );
    expect(config).toMatchObject(expected);
  });

  it.each([
    [{ 'data-site': 's' }, 'data-endpoint is missing: expected the collector URL'],
    [
      { 'data-endpoint': 'javascript:alert(1)', 'data-site': 's' },
      'data-endpoint is "javascript:alert(1)"',
    ],
    [{ 'data-endpoint': '/c' }, 'data-site is missing: expected a non-empty string'],
    [
      { 'data-endpoint': '/c', 'data-site': 's', 'data-spa': 'yes' },
      'data-spa is "yes": expected one of history, hash, off',
    ],
    [
      { 'data-endpoint': '/c', 'data-site': 's', 'data-batch-size': '0' },
      'data-batch-size is "0": expected a number from 1 to 100',
    ],
    [
      { 'data-endpoint': '/c', 'data-site': 's', 'data-batch-size': 'ten' },
      'data-batch-size is "ten"',
    ],
    [
      { 'data-endpoint': '/c', 'data-site': 's', 'data-debug': 'maybe' },
      'data-debug is "maybe": expected "true" or "false"',
    ],
    [
      { 'data-endpoint': '/c', 'data-site': 's', 'data-consent': 'yes' },
      'data-consent is "yes": expected one of implied, required',
    ],
    [
      { 'data-endpoint': '/c', 'data-site': 's', 'data-sample-rate': '50' },
      'data-sample-rate is "50": expected a number from 0 to 1',
    ],
    [
      { 'data-endpoint': '/c', 'data-site': 's', 'data-max-errors': '0' },
      'data-max-errors is "0": expected a number from 1 to 1000',
    ],
    [{ 'data-endpoint': '/c', 'data-site': 's', 'data-vitals': 'no' }, 'data-vitals is "no"'],
  ])('refuses %j with one warning naming the attribute', (attributes, message) => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(resolveConfig(tag(attributes), true)).toBeUndefined();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0].join(' ')).toContain(message);
  });

  it('takes lists and the beforeSend hook from init()', () => {
    const beforeSend = () => null;
    expect(
      resolveConfig({ endpoint: '/c', site: 's', exclude: ['/a/*'], beforeSend }, false),
    ).toMatchObject({
      exclude: ['/a/*'],
      beforeSend,
    });
  });

  it('refuses a list that is not of strings', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(resolveConfig({ endpoint: '/c', site: 's', scrubParams: [1] }, false)).toBeUndefined();
    expect(warn.mock.calls[0].join(' ')).toContain(
      'scrubParams is [1]: expected an array of strings',
    );
  });

  it('names the option, not the attribute, for init()', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(resolveConfig({ endpoint: '/c', site: 's', batchSize: '5' }, false)).toBeUndefined();
    expect(warn.mock.calls[0].join(' ')).toContain('batchSize is "5": expected a number');
  });
});
