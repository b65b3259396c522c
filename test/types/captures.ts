// Type-level tests of the capture modules of the npm API (`tsc --noEmit` in `npm test`).
import { clicks, engagement, errors, init, vitals, type TrackletEvent } from '../../src/index';

init({
  endpoint: '/collect',
  site: 'site',
  capture: [
    vitals(),
    errors({ maxErrors: 5, ignore: ['ResizeObserver', /^Script error/] }),
    clicks({ outbound: true, downloads: ['pdf'] }),
    engagement(),
  ],
});
init({ endpoint: '/collect', site: 'site', capture: [clicks({ downloads: true })] });

// @ts-expect-error maxErrors is a number
errors({ maxErrors: '5' });
// @ts-expect-error ignore patterns are strings or regular expressions
errors({ ignore: [42] });
// @ts-expect-error downloads is true or a list of extensions
clicks({ downloads: 'pdf' });
// @ts-expect-error a capture is a factory's result, not the factory
init({ endpoint: '/c', site: 's', capture: [vitals] });

/** The new event kinds carry their fields. */
export const fields = (event: TrackletEvent): number | string | undefined => {
  switch (event.type) {
    case 'vital':
      return event.metricValue;
    case 'error':
      return event.count;
    case 'engagement':
      return (
        event.engagementTime + event.scrollDepth + event.interactionCount + event.pageviewId.length
      );
  }
};

// The marketing captures and calls (docs/marketing.md).
import {
  crossDomain,
  forms,
  gcm,
  notFound,
  notFoundCapture,
  props,
  set,
  tcf,
} from '../../src/index';
init({
  endpoint: '/c',
  site: 's',
  consent: 'required',
  capture: [
    props({ plan: 'pro' }),
    notFoundCapture(true),
    forms(),
    crossDomain(['checkout.example']),
    gcm(),
    tcf(),
  ],
});
set({ plan: 'pro', tier: 2, nested: { ok: true } });
notFound();
// @ts-expect-error set takes a properties object
set('pro');
// @ts-expect-error the page's status is not an argument
notFound(404);
