/**
 * Personal data removed from events before they leave the page: e-mail addresses anywhere in the
 * text, and the values of sensitive URL parameters (`?token=…`, `#access_token=…`).
 */
import type { TrackletEvent } from '../types';
import { isCampaignParam } from './attribution';

/** What replaces a removed value. */
export const MASK = '[redacted]';

/**
 * Parameter names (or words in them: `access_token`, `api-key`, `apiKey`) whose values are masked by
 * default; `scrubParams` adds more, it never removes these.
 */
export const SENSITIVE_PARAMS = (
  'email mail token password passwd pwd pass secret auth key apikey session sessionid sid jwt ' +
  'signature sig credential otp'
).split(' ');

/** Fields of any event type that may carry a URL, an e-mail address or a token. */
const FIELDS = 'url path referrer title message stack filename'.split(' ');

/** Also the URL-encoded form (`bob%40example.com`), as it appears in query strings. */
const EMAIL = /[\w.+%-]+(@|%40)[\w-]+(\.[\w-]+)+/g;

/** A `name=value` parameter of a query or fragment; the value ends where a URL in a stack or message ends. */
const PARAM = /([?&#])([^=&#\s]+)=([^&#\s'"()<>]*)/g;

/** Masks e-mail addresses and sensitive parameter values in a text (a URL, an error message, a stack). */
export type Scrub = (text: string) => string;

/** A scrubber for the default sensitive parameters plus `extra` (compiled once per tracker). */
export const createScrubber = (extra: string[]): Scrub => {
  const names = SENSITIVE_PARAMS.concat(extra.map((name) => name.toLowerCase()));
  const sensitive = (name: string): boolean => {
    // `apiKey` → `api_key`, so that camelCase names split into words too.
    const lower = name.replace(/([a-z])(?=[A-Z])/g, '$1_').toLowerCase();
    // Campaign parameters are what attribution is made of: their names are never masked.
    return (
      !isCampaignParam(lower) &&
      [lower, ...lower.split(/[^a-z\d]+/)].some((word) => names.includes(word))
    );
  };
  // The URL and path of a page repeat in each of its events: each text is scrubbed once.
  let seen = new Map<string, string>();
  return (text) => {
    let result = seen.get(text);
    if (result == null) {
      result = text
        .replace(PARAM, (match, lead: string, name: string) =>
          sensitive(name) ? lead + name + '=' + MASK : match,
        )
        .replace(EMAIL, MASK);
      if (seen.size > 99) seen = new Map();
      seen.set(text, result);
    }
    return result;
  };
};

/**
 * Scrubs, in place, every text field an event of any type has, and its attribution's values. Runs
 * once per event as the gate passes it, no longer inside the call that tracked it (see tracker.ts).
 */
export const scrubEvent = (event: TrackletEvent, scrub: Scrub): void => {
  const fields = event as unknown as Record<string, unknown>;
  for (const name of FIELDS)
    if (typeof fields[name] == 'string') fields[name] = scrub(fields[name] as string);
  const attribution = event.attribution;
  for (const name in attribution) attribution[name] = scrub(attribution[name]);
};
