// The first file's scrubbing (src/tag/scrub.ts) masks exactly what the npm build's does
// (core/scrub.ts, whose rules test/unit/scrub.test.ts states case by case): the same event, scrubbed
// by both, comes out the same, for texts built from sensitive and harmless parameter names, campaign
// parameters, e-mail addresses plain and URL-encoded, fragments, and stack-like text around them.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createScrubber, scrubEvent } from '../../../src/core/scrub';
import { createScrub } from '../../../src/tag/scrub';
import type { TrackletEvent } from '../../../src/types';

const name = fc.oneof(
  fc.constantFrom(
    'email',
    'Password',
    'access_token',
    'apiKey',
    'api-key',
    'session_id',
    'sid',
    'tokenType',
    'utm_source',
    'utm_term',
    'trc_campaign',
    'gclid',
    'page',
    'tab',
    'q',
    'ref',
    'User_ID',
    'userId',
    'keyboard',
    'passage',
    'monkey',
    'jwtSecret',
    'otp',
    'x.key',
    '__proto__',
    'toString',
  ),
  fc.stringMatching(/^[A-Za-z_.-]{1,10}$/),
);
const val = fc.oneof(
  fc.constantFrom('bob@example.com', 'bob%40example.com', 'hunter2', '42', '', 'a b', "x'y", '(z)'),
  fc.stringMatching(/^[\w.%@+-]{0,12}$/),
);
const lead = fc.constantFrom('?', '&', '#', '#/r?');
const text = fc
  .array(
    fc.oneof(
      fc.tuple(lead, name, fc.constant('='), val).map((p) => p.join('')),
      fc.constantFrom(
        'https://s.example/a',
        ' at f (https://s.example/x.js?v=1:2:3)',
        ' ',
        'alice@mail.example.org',
        '/',
      ),
      fc.string({ maxLength: 6 }),
    ),
    { maxLength: 8 },
  )
  .map((parts) => parts.join(''));

const event = (url: string, title: string, term: string): TrackletEvent =>
  ({
    type: 'pageview',
    id: 'e',
    url,
    path: url.replace(/^https?:\/\/[^/]*/, ''),
    title,
    referrer: url,
    attribution: { utm_term: term },
  }) as unknown as TrackletEvent;

describe('the first file scrubs as the npm build does', () => {
  it.each([[[]], [['ref', 'User_ID']]])('for every text, extra names %j', (extra: string[]) => {
    const npm = createScrubber(extra);
    // The tag reads its extra names from a comma-separated attribute.
    const tag = createScrub(extra.join(','));
    fc.assert(
      fc.property(text, text, text, (url, title, term) => {
        const expected = event(url, title, term);
        const actual = event(url, title, term);
        scrubEvent(expected, npm);
        tag(actual);
        expect(actual).toEqual(expected);
      }),
      { numRuns: 2000 },
    );
  });
});
