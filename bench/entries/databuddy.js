// Databuddy from npm: the SDK injects its tracker script from Databuddy's CDN, then forwards calls to
// it. Only the SDK is bundled; the tracker it tries to load is blocked here (no network) and counted.
import { createScript, track, flush } from '@databuddy/sdk';

document.head.appendChild(
  createScript({
    clientId: 'bench',
    apiUrl: location.origin,
    trackWebVitals: true,
    trackErrors: true,
  }),
);
track('signup', { plan: 'pro' });

if (BENCH) window.bench = { track, flush };
