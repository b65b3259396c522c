import { describe, expect, it } from 'vitest';
import { createScrubber, MASK, scrubEvent } from '../../src/core/scrub';
import type { TrackletEvent } from '../../src/types';

const scrub = createScrubber(['ref', 'User_ID']);
const M = MASK;

describe('scrub', () => {
  it.each([
    // E-mail addresses, anywhere
    [
      'https://s.example/?email=bob@example.com&utm_source=x',
      `https://s.example/?email=${M}&utm_source=x`,
    ],
    [
      'https://s.example/users/bob.smith+tag@mail.example.co.uk/edit',
      `https://s.example/users/${M}/edit`,
    ],
    ['https://s.example/?to=bob%40example.com', `https://s.example/?to=${M}`],
    ['Cannot load profile of alice@example.org', `Cannot load profile of ${M}`],
    // Sensitive parameters, in the query and in the fragment, whatever their case
    ['https://s.example/?token=abc&page=2', `https://s.example/?token=${M}&page=2`],
    ['https://s.example/?a=1&Password=hunter2', `https://s.example/?a=1&Password=${M}`],
    [
      'https://s.example/cb#access_token=xyz&token_type=bearer',
      `https://s.example/cb#access_token=${M}&token_type=${M}`,
    ],
    [
      'https://s.example/#/route?session_id=42&tab=a',
      `https://s.example/#/route?session_id=${M}&tab=a`,
    ],
    [
      'https://s.example/?apiKey=k1&api-key=k2&auth=a',
      `https://s.example/?apiKey=${M}&api-key=${M}&auth=${M}`,
    ],
    [
      'https://s.example/file?X-Amz-Signature=f00&X-Amz-Date=1',
      `https://s.example/file?X-Amz-Signature=${M}&X-Amz-Date=1`,
    ],
    ['https://s.example/?key=&sid=9', `https://s.example/?key=${M}&sid=${M}`],
    // Configured names (case-insensitive), on top of the defaults
    [
      'https://s.example/?ref=friend&user_id=7&USER_ID=8',
      `https://s.example/?ref=${M}&user_id=${M}&USER_ID=${M}`,
    ],
    // Words inside other words are not names: author, keyword, monkey, sidebar
    [
      'https://s.example/?author=ann&keyword=shoes&monkey=1&sidebar=open',
      'https://s.example/?author=ann&keyword=shoes&monkey=1&sidebar=open',
    ],
    // Campaign parameters survive, and so do their values
    [
      'https://s.example/?utm_source=news&utm_campaign=spring&gclid=abc&trc_cid=42',
      'https://s.example/?utm_source=news&utm_campaign=spring&gclid=abc&trc_cid=42',
    ],
    // URLs inside error messages and stacks: the value ends with the URL
    [
      'Failed to fetch https://api.example/v1?token=abc (status 500)',
      `Failed to fetch https://api.example/v1?token=${M} (status 500)`,
    ],
    [
      'at load (https://s.example/app.js?key=s3cr3t:10:5)',
      `at load (https://s.example/app.js?key=${M})`,
    ],
    // Stack frames in the name@url form are not e-mail addresses
    ['load@https://s.example/app.js:10:5', 'load@https://s.example/app.js:10:5'],
    // Nothing to do
    ['https://s.example/pricing?plan=pro', 'https://s.example/pricing?plan=pro'],
    ['', ''],
  ])('%s', (input, expected) => {
    expect(scrub(input)).toBe(expected);
  });

  it('scrubs url, referrer, path, attribution and error message, stack and filename of any event type', () => {
    const event = {
      id: '1',
      type: 'error',
      timestamp: 0,
      anonymousId: 'a',
      sessionId: 's',
      url: 'https://s.example/u/bob@example.com?token=t1',
      path: '/u/bob@example.com',
      attribution: { utm_source: 'bob@example.com', referrer: 'https://mail.example/?sid=9' },
      message: 'no user bob@example.com',
      stack: 'Error\n at f (https://s.example/a.js?auth=zz:1:1)',
      filename: 'https://s.example/a.js?auth=zz',
      errorType: 'Error',
      lineno: 1,
    } as TrackletEvent;
    scrubEvent(event, scrub);
    expect(event).toMatchObject({
      url: `https://s.example/u/${M}?token=${M}`,
      path: `/u/${M}`,
      attribution: { utm_source: M, referrer: `https://mail.example/?sid=${M}` },
      message: `no user ${M}`,
      stack: `Error\n at f (https://s.example/a.js?auth=${M})`,
      filename: `https://s.example/a.js?auth=${M}`,
      lineno: 1,
    });
    expect(JSON.stringify(event)).not.toMatch(/bob@|t1|zz|=9/);
  });
});
