// Plausible from npm: auto pageviews (SPA included) + one custom event. It offers no vitals or error capture.
import { init, track } from '@plausible-analytics/tracker';

init({
  domain: 'bench.test',
  endpoint: location.origin + '/api/event',
  captureOnLocalhost: true,
  logging: false,
});
track('signup', { props: { plan: 'pro' } });

if (BENCH) window.bench = { track: (name, props) => track(name, { props }) };
