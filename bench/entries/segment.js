// Segment from npm with its settings given locally (no CDN settings fetch): page() + one custom
// event; SPA navigations need a page() call from the app. It offers no vitals or error capture.
import { AnalyticsBrowser } from '@segment/analytics-next';

const analytics = AnalyticsBrowser.load({
  writeKey: 'bench',
  cdnSettings: {
    integrations: {
      'Segment.io': { apiKey: 'bench', apiHost: location.host + '/v1', protocol: 'http' },
    },
  },
});
analytics.page();
analytics.track('signup', { plan: 'pro' });

if (BENCH)
  window.bench = {
    track: (name, props) => analytics.track(name, props),
    navigated: () => analytics.page(),
  };
