// OpenPanel from npm (@openpanel/web): auto screen views (SPA included) + one custom event. Session
// replay is off, so its recorder is never loaded. It offers no vitals or error capture.
import { OpenPanel } from '@openpanel/web';

const op = new OpenPanel({
  clientId: 'bench',
  apiUrl: location.origin + '/op',
  trackScreenViews: true,
});
op.track('signup', { plan: 'pro' });

if (BENCH)
  window.bench = { track: (name, props) => op.track(name, props), flush: () => op.flush?.() };
