import type { Attribution } from '../types';

/**
 * Campaign parameters: `utm_*`, Tracify's `trc_*`, and ad-platform click ids (gclid, gbraid, wbraid,
 * dclid, fbclid, msclkid, ttclid, li_fat_id, twclid, yclid, epik, rdt_cid, sccid, irclickid, igshid).
 */
const CAMPAIGN = new RegExp(
  '^((utm|trc)_.*|[gd]clid|fbclid|[gw]braid|msclkid|ttclid|li_fat_id|twclid|yclid|epik|' +
    'rdt_cid|sccid|irclickid|igshid)$',
);

/** True for parameters that identify a campaign: `utm_*`, `trc_*`, and click ids. */
export const isCampaignParam = (name: string): boolean => CAMPAIGN.test(name);

/** The campaign parameters of a URL, by name (the first value of each), as strings. */
export const campaignParams = (url: string): Attribution => {
  const params: Attribution = {};
  new URL(url).searchParams.forEach((value, name) => {
    name = name.toLowerCase();
    if (isCampaignParam(name) && !(name in params)) params[name] = value;
  });
  return params;
};

/** A stable key for a campaign: two landings with the same parameters share it. */
export const campaignKey = (params: Attribution): string =>
  Object.keys(params)
    .sort()
    .map((name) => name + '=' + params[name])
    .join('&');

/**
 * Attribution for a new session: the landing URL's campaign parameters plus the referrer when it
 * is another site's (an internal referrer says nothing about how the visitor came).
 */
export const attributionOf = (url: string, referrer: string): Attribution => {
  const attribution = campaignParams(url);
  try {
    if (referrer && new URL(referrer).host != new URL(url).host) attribution.referrer = referrer;
  } catch {
    // An unparseable referrer is left out.
  }
  return attribution;
};
