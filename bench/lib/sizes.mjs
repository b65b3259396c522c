// Part 1: bytes of every Tracklet build and every peer, and each peer's ratio to Tracklet.
import { readFileSync } from 'node:fs';
import { bundle, bundleScript, scriptCaptures, sizes } from './bundle.mjs';
import { PEERS, TRACKLET_NPM } from './peers.mjs';

/** Returns rows `{ id, label, min, gzip, brotli, ratio? }`; ratios are against Tracklet's full script tag. */
export const measureSizes = async () => {
  const rows = [];
  // Without the trailing source-map comment: no other row carries one.
  const full = sizes(Buffer.from(readFileSync('dist/tracklet.js', 'utf8').replace(/\n?\/\/# sourceMappingURL=.*\s*$/, '\n')));
  rows.push({ id: 'tracklet', label: 'Tracklet script tag (everything on)', group: 'tracklet', offers: 'every capture src/script.ts starts', ...full });
  // Cross-check: the variant builder must reproduce dist/tracklet.js, or its "capture off" rows mean nothing.
  const rebuilt = sizes(await bundleScript());
  if (rebuilt.min != full.min) console.warn(`bench: rebuilt script is ${rebuilt.min} B, dist/tracklet.js ${full.min} B`);
  for (const name of scriptCaptures())
    rows.push({ id: `tracklet-no-${name}`, label: `Tracklet script tag, ${name} off`, group: 'tracklet', offers: `all but ${name}`, ...sizes(await bundleScript([name])) });
  rows.push({ ...TRACKLET_NPM, group: 'tracklet', offers: 'pageviews (SPA included), events', ...sizes(await bundle(TRACKLET_NPM.entry)) });
  for (const peer of PEERS) rows.push({ id: peer.id, label: `${peer.label} ${peer.version}`, group: 'peer', offers: peer.offers, partial: peer.partial, ...sizes(await bundle(peer.entry)) });
  for (const row of rows) row.ratio = row.brotli / full.brotli;
  return rows;
};
