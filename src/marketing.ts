/**
 * The script tag's third file, `tracklet.marketing.js`: `tracklet('init', …)` for tags without
 * data-endpoint (tag managers), properties on every event (`data-props`, `tracklet('set', …)`),
 * 404 pages (`data-not-found`, `tracklet('notFound')`), form submissions (`data-forms`), the
 * cross-domain linker (`data-cross-domain`) and consent platforms (`data-consent-source`). The
 * first file fetches it before it starts when the tag asks for one of these, so the first pageview
 * has them; it then starts the tracker with its captures. Docs: docs/marketing.md.
 */
import type { Capture } from './core/contract';
import { warn } from './core/log';
import { crossDomain } from './capture/crossdomain';
import { forms } from './capture/forms';
import { markNotFound, notFound } from './capture/notfound';
import { parseProps, props, setProps } from './capture/props';
import { filterOf } from './core/privacy';
import { gcm } from './consent/gcm';
import { tcf } from './consent/tcf';

type Api = Record<string, (...args: unknown[]) => unknown>;
type Go = (capture: Capture[], options?: object) => boolean | undefined;
type Setup = (script: HTMLScriptElement, later: unknown[][], go: Go, api: Api) => void;

/** What the third file reads, from the tag's `data-*` attributes over the options of `init`. */
interface Features {
  props?: unknown;
  notFound?: unknown;
  forms?: unknown;
  crossDomain?: unknown;
  consentSource?: unknown;
  consent?: unknown;
  exclude?: unknown;
  sampleRate?: unknown;
}

const isOn = (value: unknown) => value === true || value === '' || value === 'true';

/** The captures the features ask for. */
export const capturesOf = (features: Features): Capture[] => {
  const captures = [
    props(typeof features.props == 'string' ? parseProps(features.props) : features.props),
    notFound(isOn(features.notFound)),
  ];
  if (isOn(features.forms)) captures.push(forms());
  if (features.crossDomain) captures.push(crossDomain(features.crossDomain as string | string[]));
  const source = features.consentSource;
  if (source != null) {
    if (features.consent != 'required')
      warn('data-consent-source needs data-consent="required": ignored');
    else if (source == 'gcm') captures.push(gcm());
    else if (source == 'tcf') captures.push(tcf());
    else warn('data-consent-source is', JSON.stringify(source), ': expected gcm or tcf, ignored');
  }
  return captures;
};

const setup: Setup = (script, later, go, api) => {
  const attribute = (name: string) => script.getAttribute('data-' + name) ?? undefined;
  let options: (Features & object) | undefined;
  let started = false;
  const start = () => {
    started = true;
    const features: Features = { ...options };
    for (const [key, name] of [
      ['props', 'props'],
      ['notFound', 'not-found'],
      ['forms', 'forms'],
      ['crossDomain', 'cross-domain'],
      ['consentSource', 'consent-source'],
      ['consent', 'consent'],
      ['exclude', 'exclude'],
      ['sampleRate', 'sample-rate'],
    ] as const)
      if (script.hasAttribute('data-' + name)) features[key] = attribute(name);
    const captures = capturesOf(features);
    // Started already (a method of this file was called after a start without it): attach instead.
    if (go(captures, { ...options, filter: filterOf(features) }) === false)
      captures.forEach((capture) => api.attach(capture));
  };
  let replaying = true;
  const methods: Api = {
    init: (value) => {
      if (started || options) return warn('init: started already, ignored');
      if (!value || typeof value != 'object')
        return warn('init() takes an options object, got', value);
      options = value as Features;
      if (!replaying) start();
    },
    set: setProps,
    notFound: markNotFound,
  };
  Object.assign(api, methods);
  // Booted once: a second copy of this file (a page's own tag for it) finds no `boot` (`none_` is
  // no key) and is warned about, instead of attaching forms, 404s and the linker twice.
  api.boot = api.none_;
  Object.assign((window as unknown as { tracklet: object }).tracklet, methods);
  // The calls kept by the first file, in order, before the start: `set` and `notFound` shape the first pageview.
  for (const [method, ...args] of later.splice(0)) {
    if (typeof method == 'string' && method in methods) methods[method](...args);
    else warn('unknown method', method);
  }
  later.push = (...items: unknown[][]) => {
    for (const [method] of items) warn('unknown method', method);
    return later.length;
  };
  replaying = false;
  // A tag with data-endpoint starts now; one without waits for `tracklet('init', …)`.
  if (options || script.hasAttribute('data-endpoint')) start();
};

(window as unknown as { tracklet?: (method: string, setup: Setup) => void }).tracklet?.(
  'boot',
  setup,
);
