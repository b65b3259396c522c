/**
 * Personal data removed from every event before it leaves the page, by the rules of
 * `core/scrub.ts`, written for size: e-mail addresses anywhere (also URL-encoded), and the values of
 * URL parameters whose name, or a word of it (`access_token`, `apiKey`), is sensitive.
 */
import type { TrackletEvent } from '../types';
import { isCampaignParam } from '../core/attribution';

/**
 * Scrubs, in place, the text fields an event of any type has and its attribution's values. `extra`
 * names more parameters: an array, or the tag's comma-separated attribute.
 */
export const createScrub = (extra: unknown) => {
  const words = (
    'email mail token password passwd pwd pass secret auth key apikey session sessionid sid jwt ' +
    'signature sig credential otp,' +
    (extra || '')
  )
    .toLowerCase()
    .match(/[^\s,]+/g)!;
  // The URL and path of a page repeat in each of its events: each text is scrubbed once.
  // Keyed with a leading space: no text (`__proto__`, `toString`) meets the object's prototype.
  let seen: Record<string, string> = {};
  let size = 0;
  const scrub = (text: string) =>
    (seen[' ' + text] ??=
      (++size > 99 && ((seen = {}), (size = 0)),
      text
        .replace(/([?&#]([^=&#\s]+)=)[^&#\s'"()<>]*/g, (match, head: string, name: string) => {
          // `apiKey` → `api_key`: camelCase names split into words too. Campaign parameters never.
          const lower = name.replace(/([a-z])(?=[A-Z])/g, '$1_').toLowerCase();
          return !isCampaignParam(lower) &&
            [lower, ...lower.split(/[^a-z\d]+/)].some((word) => words.includes(word))
            ? head + '[redacted]'
            : match;
        })
        .replace(/[\w.+%-]+(@|%40)[\w-]+(\.[\w-]+)+/g, '[redacted]')));
  return (event: TrackletEvent) => {
    const fields = event as unknown as Record<string, unknown>;
    for (const name of 'url path referrer title message stack filename'.split(' '))
      if (typeof fields[name] == 'string') fields[name] = scrub(fields[name] as string);
    const attribution = event.attribution;
    for (const name in attribution) attribution[name] = scrub(attribution[name]);
  };
};
