// The trackers compared: Tracklet's builds and each peer's minimal equivalent usage (bench/entries/).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ROOT } from './bundle.mjs';

const version = (name) => {
  try {
    return JSON.parse(readFileSync(resolve(ROOT, 'node_modules', name, 'package.json'), 'utf8'))
      .version;
  } catch {
    return '?';
  }
};

/**
 * One row per peer. `pkg` names the npm package (its version is read from node_modules), `offers`
 * what the bundled usage captures; `note` is printed under the table.
 */
export const PEERS = [
  {
    id: 'web-vitals',
    label: 'web-vitals alone (vitals floor)',
    pkg: 'web-vitals',
    offers: 'vitals only',
    tracks: false,
  },
  {
    id: 'plausible',
    label: 'Plausible',
    pkg: '@plausible-analytics/tracker',
    offers: 'pageviews, events',
  },
  {
    id: 'posthog',
    label: 'PostHog',
    pkg: 'posthog-js',
    offers: 'pageviews, events, vitals, errors',
  },
  {
    id: 'openpanel',
    label: 'OpenPanel',
    pkg: '@openpanel/web',
    offers: 'pageviews, events',
    splitDynamic: true,
    note:
      "OpenPanel: its session-replay recorder is behind a dynamic import(), which an app's " +
      'bundler puts in a chunk of its own, fetched only when replay is on; the bench leaves ' +
      'that chunk out of the bundle (replay is off).',
  },
  {
    id: 'segment',
    label: 'Segment',
    pkg: '@segment/analytics-next',
    offers: 'pageviews (manual on SPA), events',
  },
  {
    id: 'snowplow',
    label: 'Snowplow',
    pkg: '@snowplow/browser-tracker',
    offers: 'pageviews (manual on SPA), events, errors',
  },
  {
    id: 'databuddy',
    label: 'Databuddy (SDK loader only)',
    pkg: '@databuddy/sdk',
    offers: 'loader: its tracker comes from a CDN, blocked here',
    partial: true,
    note:
      "Databuddy: the npm SDK only injects the tracker script from Databuddy's CDN; that " +
      'script is not on npm, so its size and cost cannot be measured offline. The figures are ' +
      "the loader's alone, a lower bound.",
  },
].map((peer) => ({
  tracks: true,
  ...peer,
  version: version(peer.pkg),
  entry: `bench/entries/${peer.id}.js`,
}));

export const TRACKLET_NPM = {
  id: 'tracklet-npm',
  label: 'Tracklet npm (init + track)',
  entry: 'bench/entries/tracklet-npm.js',
  tracks: true,
};
