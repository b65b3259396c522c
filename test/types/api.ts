// Type-level tests of the npm API: `tsc --noEmit` (in `npm test`) fails if a call marked as an
// expected error compiles, or if a correct call does not.
import {
  consent,
  flush,
  getAnonymousId,
  identify,
  init,
  page,
  reset,
  track,
  type TrackletEvent,
  type TrackletOptions,
} from '../../src/index';

const options: TrackletOptions = {
  endpoint: '/collect',
  site: 'site',
  spa: 'hash',
  batchSize: 20,
  debug: true,
};
init(options);
track('signup', { plan: 'pro', seats: 3, tags: ['a', 'b'], nested: { ok: true }, none: null });
page();
page({ section: 'docs' });
identify('user-1', { plan: 'pro' });
reset();
const done: Promise<void> = flush();
const id: string | undefined = getAnonymousId();

consent(true);
init({
  endpoint: '/c',
  site: 's',
  consent: 'required',
  storage: 'none',
  exclude: ['/admin/*'],
  sampleRate: 0.5,
  scrubParams: ['ref'],
  beforeSend: (event) => (event.path == '/x' ? null : { ...event, url: '' }),
});

// @ts-expect-error consent takes a boolean
consent('yes');
// @ts-expect-error consent is required or implied
init({ endpoint: '/c', site: 's', consent: 'maybe' });
// @ts-expect-error exclude is a list of patterns
init({ endpoint: '/c', site: 's', exclude: '/admin/*' });
// @ts-expect-error beforeSend returns the event or null
init({ endpoint: '/c', site: 's', beforeSend: () => 'drop' });

// @ts-expect-error the endpoint is required
init({ site: 'site' });
// @ts-expect-error spa is one of history, hash, off
init({ endpoint: '/c', site: 's', spa: 'router' });
// @ts-expect-error batchSize is a number
init({ endpoint: '/c', site: 's', batchSize: '10' });
// @ts-expect-error an event name is required
track();
// @ts-expect-error property values are JSON values
track('x', { when: () => 1 });

// Events are a discriminated union on `type`.
const describe = (event: TrackletEvent): string => {
  switch (event.type) {
    case 'event':
      return event.name;
    case 'pageview':
      return event.title;
    case 'vital':
      return event.metricName;
    case 'error':
      return event.message;
    default:
      // @ts-expect-error `name` exists only on custom events
      return event.name;
  }
};

export { describe, done, id };
