// Tracklet from npm, the minimal import: auto pageview (with SPA navigation) + one custom event.
import { init, track, flush } from 'tracklet';

init({ endpoint: location.origin + '/collect', site: 'bench' });
track('signup', { plan: 'pro' });

if (BENCH) window.bench = { track, flush };
