// Part 1: bytes of every Tracklet build and every peer, and each peer's ratio to Tracklet.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { bundle, sizes } from './bundle.mjs';
import { PEERS, TRACKLET_NPM } from './peers.mjs';

/** A file of dist/ as it is served, less its trailing source-map comment (no other row carries one). */
const served = (file) =>
  Buffer.from(readFileSync(file, 'utf8').replace(/\n?\/\/# sourceMappingURL=.*\s*$/, '\n'));

/**
 * When the browser part is skipped, the files the tag loads are guessed: dist/tracklet.js and every
 * other dist/tracklet.*.js but the debug build.
 */
export const guessTagFiles = () => [
  'dist/tracklet.js',
  ...readdirSync('dist')
    .filter((name) => /^tracklet\..+\.js$/.test(name) && !name.includes('debug'))
    .map((name) => 'dist/' + name),
];

/**
 * Returns rows `{ id, label, min, gzip, brotli, ratio? }`. `tagFiles` are the files of dist/ the
 * script tag loads, the first one first (each compressed on its own, as each travels on its own);
 * ratios are against all of them.
 */
export const measureSizes = async (tagFiles = guessTagFiles()) => {
  const rows = [];
  const files = tagFiles
    .filter((file) => existsSync(file))
    .map((file) => ({ file, ...sizes(served(file)) }));
  const sum = (unit) => files.reduce((total, f) => total + f[unit], 0);
  const all = { min: sum('min'), gzip: sum('gzip'), brotli: sum('brotli') };
  const names = files.map((f) => f.file.replace('dist/', '')).join(' + ');
  rows.push({
    id: 'tracklet-first',
    label: 'Tracklet script tag, first file',
    group: 'tracklet',
    offers: `${files[0].file.replace('dist/', '')}: what runs before the first pageview`,
    ...files[0],
  });
  rows.push({
    id: 'tracklet',
    label: 'Tracklet script tag, all files it loads',
    group: 'tracklet',
    offers: `everything on: ${names}`,
    files: files.map((f) => f.file),
    ...all,
  });
  rows.push({
    ...TRACKLET_NPM,
    group: 'tracklet',
    offers: 'pageviews (SPA included), events',
    ...sizes(await bundle(TRACKLET_NPM.entry)),
  });
  for (const peer of PEERS)
    rows.push({
      id: peer.id,
      label: `${peer.label} ${peer.version}`,
      group: 'peer',
      offers: peer.offers,
      partial: peer.partial,
      ...sizes(await bundle(peer.entry, { splitDynamic: peer.splitDynamic })),
    });
  for (const row of rows) row.ratio = row.brotli / all.brotli;
  return rows;
};
