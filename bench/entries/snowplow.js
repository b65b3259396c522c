// Snowplow from npm: page view + one custom event + its error-tracking plugin; SPA navigations need
// a trackPageView() call from the app. Its web-vitals plugin is not published for this version.
import {
  newTracker,
  trackPageView,
  trackStructEvent,
  flushBuffer,
} from '@snowplow/browser-tracker';
import { ErrorTrackingPlugin, enableErrorTracking } from '@snowplow/browser-plugin-error-tracking';

newTracker('sp', location.origin, {
  appId: 'bench',
  eventMethod: 'post',
  encodeBase64: false,
  plugins: [ErrorTrackingPlugin()],
});
enableErrorTracking();
trackPageView();
trackStructEvent({ category: 'app', action: 'signup', label: 'pro' });

if (BENCH)
  window.bench = {
    track: (name, props) =>
      trackStructEvent({ category: 'app', action: name, property: JSON.stringify(props) }),
    flush: () => flushBuffer(),
    navigated: () => trackPageView(),
  };
