// PostHog from npm: auto pageviews on history changes + one custom event, with its web-vitals and
// exception extensions bundled in (so nothing is loaded from a CDN) and remote config/flags off.
import posthog from 'posthog-js';
import 'posthog-js/dist/web-vitals';
import 'posthog-js/dist/exception-autocapture';

posthog.init('phc_bench', {
  api_host: location.origin,
  capture_pageview: 'history_change',
  capture_performance: { web_vitals: true },
  capture_exceptions: true,
  advanced_disable_decide: true,
  advanced_disable_flags: true,
  advanced_disable_feature_flags: true,
  disable_external_dependency_loading: true,
  disable_session_recording: true,
  disable_surveys: true,
  disable_compression: true,
});
posthog.capture('signup', { plan: 'pro' });

if (BENCH) window.bench = { track: (name, props) => posthog.capture(name, props) };
