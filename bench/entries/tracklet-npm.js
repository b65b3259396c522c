// Tracklet from npm, the minimal import: auto pageview (with SPA navigation) + one custom event.
import { init, track, flush } from 'tracklet';

// The bench page runs on 127.0.0.1 in an automated browser, which Tracklet leaves out by default.
init({ endpoint: location.origin + '/collect', site: 'bench', includeLocal: true });
track('signup', { plan: 'pro' });

if (BENCH) window.bench = { track, flush };
