/**
 * Cross-domain linker: one visitor and one session across the sites listed in
 * `data-cross-domain="checkout.example,shop.example"` (or `crossDomain([...])` on npm), without
 * cookies. A click or a form submission to one of those hosts (or their subdomains) gets a
 * short-lived `_tl` parameter with the anonymous id, the session id, the session's attribution,
 * the time and a hash of the browser; the landing page takes it out of the address bar at once and
 * adopts the ids only when the link is fresh (2 minutes) and was made by this browser. Privacy
 * trade-off: docs/marketing.md.
 */
import type { Capture, Config, Context } from '../core/contract';
import type { Attribution, TrackletEvent } from '../types';
import { campaignKey, campaignParams } from '../core/attribution';
import { parse, stringify } from '../core/sanitize';
import { log } from '../core/log';
import { safe } from '../core/safe';
import { beforeEach } from './decorate';

/** The parameter name. */
export const PARAM = '_tl';
/** A link older than this is not adopted: a link shared or bookmarked must not merge two people. */
export const MAX_AGE = 120_000;
/** Tolerated clock step backwards between the click and the landing (same machine, same clock). */
const SKEW = 5_000;
/** Storage key of the session's attribution, kept for the links (the session record drops it once sent). */
const ATTRIBUTION_KEY = 'xd';
/** Ids as Tracklet makes them (and as the relay accepts them: at most 128 characters). */
const ID = /^[\w-]{1,128}$/;

/** What the parameter carries. */
export interface LinkerPayload {
  v: 1;
  /** Anonymous id. */
  a: string;
  /** Session id, when the session is live. */
  s?: string;
  /** Epoch ms when the link was decorated (the visitor's clock, the same on both ends). */
  t: number;
  /** Hash of the browser (user agent, language, time zone): a link opened elsewhere is refused. */
  f: string;
  /** The session's attribution. */
  r?: Attribution;
}

/** FNV-1a of a text, in base 36. */
const hash = (text: string): string => {
  let value = 2166136261;
  for (let i = 0; i < text.length; i++) value = Math.imul(value ^ text.charCodeAt(i), 16777619);
  return (value >>> 0).toString(36);
};

/** The browser's hash: not an identifier (millions share it), only a check that the link stayed in this browser. */
export const browserHash = (): string => {
  let zone = '';
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {
    // No Intl: the hash is made of the rest.
  }
  return hash(navigator.userAgent + '|' + navigator.language + '|' + zone);
};

/** base64url of UTF-8 text, and back. */
const encode = (text: string): string =>
  btoa(String.fromCharCode(...new TextEncoder().encode(text)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
const decode = (text: string): string =>
  new TextDecoder().decode(
    Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0)),
  );

export const encodePayload = (payload: LinkerPayload): string => encode(stringify(payload));

/** The payload of a parameter, or a reason why it is not adopted. */
export const readPayload = (
  value: string,
  now: number,
  browser: string,
): LinkerPayload | string => {
  let payload: LinkerPayload;
  try {
    payload = parse(decode(value));
  } catch {
    return 'unreadable';
  }
  if (
    !payload ||
    payload.v != 1 ||
    !ID.test(payload.a) ||
    (payload.s != null && !ID.test(payload.s)) ||
    typeof payload.t != 'number'
  )
    return 'malformed';
  if (!(now - payload.t <= MAX_AGE && payload.t - now <= SKEW)) return 'stale';
  if (payload.f != browser) return 'another browser';
  const r = payload.r;
  if (
    r != null &&
    (typeof r != 'object' || Object.values(r).some((value) => typeof value != 'string'))
  )
    return 'malformed';
  return payload;
};

/** `"checkout.example, Shop.example"` or an array → lower-case hosts. */
export const parseDomains = (value: string | string[] | null | undefined): string[] =>
  (Array.isArray(value) ? value : (value || '').split(','))
    .map((domain) => String(domain).trim().toLowerCase())
    .filter(Boolean);

/** Whether a URL goes to one of `domains` (or a subdomain), on another origin than this page's. */
export const isLinked = (url: URL, domains: string[]): boolean =>
  /^https?:$/.test(url.protocol) &&
  url.origin != location.origin &&
  // An entry with a port names one origin's host (`127.0.0.1:4001`); without, a host and its subdomains.
  domains.some((domain) =>
    domain.includes(':')
      ? url.host == domain
      : url.hostname == domain || url.hostname.endsWith('.' + domain),
  );

/** `url` with the parameter set to `value` (replacing an older one), or removed when `value` is empty. */
export const withParam = (url: string, value: string): string => {
  const [base, fragment] = url.split(/(?=#)/);
  const [path, query = ''] = base.split('?');
  const params = query.split('&').filter((pair) => pair && !pair.startsWith(PARAM + '='));
  if (value) params.push(PARAM + '=' + value);
  return path + (params.length ? '?' + params.join('&') : '') + (fragment || '');
};

/** Whether Tracklet may share the visitor's ids: not blocked by Do Not Track / GPC, consent given, ids kept. */
const mayShare = (config: Config, read: (key: string) => string | null): boolean => {
  const nav = navigator as Navigator & { globalPrivacyControl?: boolean };
  if (config.privacySignals == 'respect' && (nav.doNotTrack == '1' || nav.globalPrivacyControl))
    return false;
  if (config.storage == 'none') return false;
  const choice = read('consent');
  return config.consent == 'required' ? choice == '1' : choice != '0';
};

/**
 * Adopts the ids of a fresh link made by this browser, before the first pageview; takes the
 * parameter out of the address bar in every case (runs before the tracker follows the history API,
 * so this is no navigation). Returns the reason when nothing was adopted.
 */
export const adopt = (context: Context, now = Date.now()): string | undefined => {
  const value = new URLSearchParams(location.search).get(PARAM);
  if (value == null) return 'no parameter';
  history.replaceState(history.state, '', withParam(location.href, ''));
  const { config, write } = context;
  const nav = navigator as Navigator & { globalPrivacyControl?: boolean };
  if (config.privacySignals == 'respect' && (nav.doNotTrack == '1' || nav.globalPrivacyControl))
    return 'privacy signals';
  const payload = readPayload(value, now, browserHash());
  if (typeof payload == 'string') return payload;
  write!('aid', payload.a);
  if (payload.s) {
    // The landing's campaign is the session's, so that the tracker does not start another one.
    const session = {
      id: payload.s,
      last: now,
      campaign: campaignKey(campaignParams(location.href)),
      pending: payload.r,
    };
    write!('session', stringify(session));
    if (payload.r) write!(ATTRIBUTION_KEY, stringify({ s: payload.s, r: payload.r }));
  }
};

/**
 * The linker capture: adopts a fresh link on this page, then decorates clicks (left and middle
 * button, keyboard) and form submissions to `domains`. A right click ("copy link") is left alone.
 */
export const crossDomain =
  (domains: string[] | string): Capture =>
  (context) => {
    const { config, read, write } = context;
    const hosts = parseDomains(domains);
    if (!read || !write || !hosts.length) return;
    const why = adopt(context);
    if (DEBUG && why != 'no parameter') log('cross-domain link', why || 'adopted');
    const stop = beforeEach(config, (event: TrackletEvent) => {
      // The session record drops its attribution once sent: the links keep their own copy.
      if (event.attribution)
        write(ATTRIBUTION_KEY, stringify({ s: event.sessionId, r: event.attribution }));
    });
    const param = (): string => {
      const now = Date.now();
      const payload: LinkerPayload = { v: 1, a: read('aid') || '', t: now, f: browserHash() };
      let session: { id?: string; last?: number } | undefined;
      try {
        session = parse(read('session')!);
      } catch {
        // No session yet.
      }
      if (session?.id && now - session.last! <= config.sessionTimeout * 60_000) {
        payload.s = session.id;
        try {
          const kept = parse(read(ATTRIBUTION_KEY)!);
          if (kept?.s == session.id) payload.r = kept.r;
        } catch {
          // No attribution kept.
        }
      }
      return payload.a ? encodePayload(payload) : '';
    };
    const onClick = safe((event: MouseEvent) => {
      if (event.type == 'auxclick' && event.button != 1) return;
      const link = (event.target as Element).closest?.(
        'a[href],area[href]',
      ) as HTMLAnchorElement | null;
      if (!link || !isLinked(new URL(link.href), hosts) || !mayShare(config, read)) return;
      const value = param();
      if (value) link.href = withParam(link.href, value);
    });
    const onSubmit = safe((event: SubmitEvent) => {
      const form = event.target as HTMLFormElement;
      const submitter = event.submitter;
      const attribute = submitter?.hasAttribute('formaction') ? submitter : form;
      const action = new URL(
        attribute.getAttribute(attribute == form ? 'action' : 'formaction') || '',
        location.href,
      );
      if (!isLinked(action, hosts) || !mayShare(config, read)) return;
      const method = (
        submitter?.getAttribute('formmethod') ||
        form.getAttribute('method') ||
        'get'
      ).toLowerCase();
      const value = param();
      if (!value) return;
      if (method == 'get') {
        // A GET submission replaces the action's query with the fields: the parameter goes as a field.
        let input = form.querySelector<HTMLInputElement>(`input[name="${PARAM}"]`);
        if (!input) {
          input = document.createElement('input');
          input.type = 'hidden';
          input.name = PARAM;
          form.append(input);
        }
        input.value = value;
      } else
        attribute.setAttribute(
          attribute == form ? 'action' : 'formaction',
          withParam(action.href, value),
        );
    });
    for (const type of ['click', 'auxclick'])
      document.addEventListener(type, onClick as EventListener, true);
    document.addEventListener('submit', onSubmit as EventListener, true);
    return () => {
      stop();
      for (const type of ['click', 'auxclick'])
        document.removeEventListener(type, onClick as EventListener, true);
      document.removeEventListener('submit', onSubmit as EventListener, true);
    };
  };
