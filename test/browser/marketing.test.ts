// The third file in real Chromium: a visitor crossing two origins (two ports of 127.0.0.1), consent
// platforms (Consent Mode v2 and TCF v2.2 stubs written to the specifications), `tracklet('init')`
// without data-* attributes, properties on every event, 404 pages and form submissions.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { TrackletEvent } from '../../src/types';
import {
  html,
  launchBrowser,
  scriptTag,
  startServer,
  untilQuiet,
  type TestServer,
} from './fixture';

let shop: TestServer;
let checkout: TestServer;
let chromium: Awaited<ReturnType<typeof launchBrowser>>;
let browser: Browser;

beforeAll(async () => {
  [shop, checkout] = await Promise.all([startServer(), startServer()]);
  chromium = await launchBrowser();
  browser = chromium.browser;
});
afterAll(async () => {
  await chromium?.close();
  await shop?.close();
  await checkout?.close();
});
beforeEach(async () => {
  await untilQuiet(shop, checkout);
  shop.clear();
  checkout.clear();
});

const hostOf = (server: TestServer) => new URL(server.origin).host;
const ofType = (server: TestServer, type: string) =>
  server.events().filter((event) => event.type == type);
const ready = (page: Page) =>
  page.waitForFunction(() => (window.tracklet as unknown as { set?: unknown })?.set);

describe('cross-domain linker', () => {
  const pages = () => {
    const tag = (other: TestServer) =>
      scriptTag({ 'cross-domain': hostOf(other), 'flush-interval': '100' });
    shop.route(
      '/',
      html(
        tag(checkout),
        `<a id="pay" href="${checkout.origin}/pay?step=1#top">Pay</a><form id="f" action="${checkout.origin}/search" ` +
          `method="get"><input name="q" value="shoes"><button id="go">Go</button></form>`,
      ),
    );
    checkout.route('/pay', html(tag(shop), '<p>Pay</p>'));
    checkout.route('/search', html(tag(shop), '<p>Results</p>'));
  };

  it(
    'keeps one anonymous id, session and attribution across two ' +
      'origins, and the parameter never reaches url or referrer',
    async () => {
      pages();
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${shop.origin}/?utm_source=news&utm_campaign=spring`);
      const [landing] = await shop.waitFor((events) =>
        events.some((event) => event.type == 'pageview'),
      );
      expect(landing.attribution).toMatchObject({ utm_source: 'news', utm_campaign: 'spring' });
      await ready(page);
      await page.click('#pay');
      await page.waitForURL(`${checkout.origin}/pay?step=1#top`);
      const [arrival] = await checkout.waitFor((events) =>
        events.some((event) => event.type == 'pageview'),
      );
      expect(arrival.anonymousId).toBe(landing.anonymousId);
      expect(arrival.sessionId).toBe(landing.sessionId);
      expect(arrival.attribution).toEqual(landing.attribution);
      expect(arrival.url).toBe(`${checkout.origin}/pay?step=1#top`);
      expect(arrival.url + (arrival as { referrer: string }).referrer).not.toContain('_tl');
      expect(page.url()).toBe(`${checkout.origin}/pay?step=1#top`);
      expect(ofType(checkout, 'pageview')).toHaveLength(1);
      // And back: the shop link from checkout carries the same visitor home.
      await context.close();
    },
  );

  it('decorates a GET form submission with a field, and the landing adopts it', async () => {
    pages();
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${shop.origin}/`);
    const [landing] = await shop.waitFor((events) =>
      events.some((event) => event.type == 'pageview'),
    );
    await ready(page);
    await page.click('#go');
    await page.waitForURL(`${checkout.origin}/search?q=shoes`);
    const [arrival] = await checkout.waitFor((events) =>
      events.some((event) => event.type == 'pageview'),
    );
    expect(arrival).toMatchObject({
      anonymousId: landing.anonymousId,
      sessionId: landing.sessionId,
      path: '/search',
    });
    expect(arrival.url).toBe(`${checkout.origin}/search?q=shoes`);
    await context.close();
  });

  it(
    'does not adopt a stale link (over 2 minutes) nor one ' +
      'copied into another browser, and still removes it',
    async () => {
      pages();
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.clock.install();
      await page.goto(`${shop.origin}/?utm_source=news`);
      const [landing] = await shop.waitFor((events) =>
        events.some((event) => event.type == 'pageview'),
      );
      await ready(page);
      // Decorate without following, as a visitor's click does, then keep the link for later.
      const link = await page.evaluate(() => {
        const anchor = document.querySelector<HTMLAnchorElement>('#pay')!;
        anchor.addEventListener('click', (event) => event.preventDefault());
        anchor.click();
        return anchor.href;
      });
      expect(link).toContain('_tl=');
      // Stale: the same browser, 2 minutes and 1 second later.
      await page.clock.fastForward(121_000);
      await page.goto(link);
      await checkout.waitFor((events) => events.some((event) => event.type == 'pageview'));
      const [stale] = ofType(checkout, 'pageview');
      expect(stale.anonymousId).not.toBe(landing.anonymousId);
      expect(stale.sessionId).not.toBe(landing.sessionId);
      expect(stale.url).not.toContain('_tl');
      expect(page.url()).not.toContain('_tl');
      // Copied: fresh, but opened by another browser (another user agent).
      const fresh = await (async () => {
        const again = await context.newPage();
        await again.goto(`${shop.origin}/`);
        await ready(again);
        return again.evaluate(() => {
          const anchor = document.querySelector<HTMLAnchorElement>('#pay')!;
          anchor.addEventListener('click', (event) => event.preventDefault());
          anchor.click();
          return anchor.href;
        });
      })();
      checkout.clear();
      const other = await browser.newContext({
        userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Someone else',
      });
      const stranger = await other.newPage();
      await stranger.goto(fresh);
      const [copied] = await checkout.waitFor((events) =>
        events.some((event) => event.type == 'pageview'),
      );
      expect(copied.anonymousId).not.toBe(landing.anonymousId);
      expect(copied.url).not.toContain('_tl');
      await other.close();
      await context.close();
    },
  );
});

/** A Consent Mode page: gtag() as Google documents it, a default denied, the update later. */
const gcmPage = (defaults: string) =>
  html(
    `<script>window.dataLayer=window.dataLayer||[];function ` +
      `gtag(){dataLayer.push(arguments)}gtag('consent','default',${defaults});</script>` +
      scriptTag({ consent: 'required', 'consent-source': 'gcm', 'flush-interval': '100' }),
  );

describe('consent platforms', () => {
  it(
    'Google Consent Mode v2: a default denied waits, an ' +
      'update granted sends, an update denied drops and clears',
    async () => {
      shop.route('/gcm', gcmPage(`{ad_storage:'denied',analytics_storage:'denied'}`));
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${shop.origin}/gcm`);
      await ready(page);
      await page.evaluate(() => window.tracklet.track('waiting'));
      await page.waitForTimeout(400);
      expect(shop.received).toHaveLength(0);
      expect(
        await page.evaluate(() =>
          Object.keys(localStorage).filter(
            (key) => key.startsWith('tracklet:') && key != 'tracklet:consent',
          ),
        ),
      ).toEqual([]);
      // A tag manager replacing push after Tracklet does not hide later updates.
      await page.evaluate(() => {
        const layer = (
          window as unknown as { dataLayer: unknown[] & { push: (...a: unknown[]) => number } }
        ).dataLayer;
        const previous = layer.push;
        layer.push = function (...items: unknown[]) {
          return previous.apply(layer, items);
        };
        (window as unknown as { gtag: (...a: unknown[]) => void }).gtag('consent', 'update', {
          analytics_storage: 'granted',
        });
      });
      await shop.waitFor(
        (events) =>
          events.some((event) => event.type == 'pageview') &&
          events.some((event) => event.type == 'event'),
      );
      expect(await page.evaluate(() => localStorage.getItem('tracklet:aid'))).toBeTruthy();
      await page.evaluate(() =>
        (window as unknown as { gtag: (...a: unknown[]) => void }).gtag('consent', 'update', {
          analytics_storage: 'denied',
        }),
      );
      await page.evaluate(() => window.tracklet.track('after_revoke'));
      await page.waitForTimeout(400);
      expect(
        shop.events().some((event) => (event as { name?: string }).name == 'after_revoke'),
      ).toBe(false);
      expect(
        await page.evaluate(() => [
          localStorage.getItem('tracklet:aid'),
          localStorage.getItem('tracklet:consent'),
        ]),
      ).toEqual([null, '0']);
      await context.close();
    },
  );

  it('Google Consent Mode v2: a default granted sends at once', async () => {
    shop.route('/gcm-granted', gcmPage(`{analytics_storage:'granted'}`));
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${shop.origin}/gcm-granted`);
    await shop.waitFor((events) =>
      events.some((event) => event.type == 'pageview' && event.path == '/gcm-granted'),
    );
    await context.close();
  });

  it(
    'IAB TCF v2.2: purposes 1 and 8 grant and send what waited, ' +
      'a later choice without purpose 8 revokes and clears',
    async () => {
      // A CMP stub as the CMP API specifies: addEventListener calls back now with the current
      // TC data and again on every change, each with eventStatus and listenerId.
      const cmp =
        `<script>(function(){var listeners=[],data={tcString:'x',gdprApplies:true,` +
        `eventStatus:'cmpuishown',cmpStatus:'loaded',purpose:{consents:{},legitimateInterests:{}},` +
        `vendor:{consents:{}}};
      window.__tcfapi=function(command,version,callback,parameter){
        if(version!==2){callback(null,false);return}
        if(command==='addEventListener'){var id=listeners.length;listeners.push(callback);` +
        `callback(Object.assign({},data,{listenerId:id}),true)}
        else if(command==='removeEventListener'){var ok=!!listeners[parameter];listeners[parameter]=null;callback(ok)}
        else if(command==='ping'){callback({gdprApplies:true,cmpLoaded:true,cmpStatus:'loaded',apiVersion:'2.2'})}
      };
      window.choose=function(consents){data=Object.assign({},data,` +
        `{eventStatus:'useractioncomplete',purpose:{consents:consents,legitimateInterests:{}}});` +
        `listeners.forEach(function(cb,id){cb&&cb(Object.assign({},data,{listenerId:id}),true)})};
    })();</script>`;
      shop.route(
        '/tcf',
        html(
          cmp +
            scriptTag({ consent: 'required', 'consent-source': 'tcf', 'flush-interval': '100' }),
        ),
      );
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${shop.origin}/tcf`);
      await ready(page);
      await page.waitForTimeout(300);
      // The banner is shown: nothing is sent or stored meanwhile.
      expect(shop.received).toHaveLength(0);
      expect(await page.evaluate(() => localStorage.getItem('tracklet:aid'))).toBeNull();
      await page.evaluate(() =>
        (window as unknown as { choose: (c: object) => void }).choose({ 1: true, 8: true }),
      );
      await shop.waitFor((events) => events.some((event) => event.type == 'pageview'));
      expect(
        await page.evaluate(() => [
          localStorage.getItem('tracklet:consent'),
          !!localStorage.getItem('tracklet:aid'),
        ]),
      ).toEqual(['1', true]);
      // Purpose 1 alone is not enough: the new choice revokes.
      await page.evaluate(() =>
        (window as unknown as { choose: (c: object) => void }).choose({ 1: true }),
      );
      await page.evaluate(() => window.tracklet.track('after_revoke'));
      await page.waitForTimeout(400);
      expect(
        shop.events().some((event) => (event as { name?: string }).name == 'after_revoke'),
      ).toBe(false);
      expect(
        await page.evaluate(() => [
          localStorage.getItem('tracklet:consent'),
          localStorage.getItem('tracklet:aid'),
        ]),
      ).toEqual(['0', null]);
      await context.close();
    },
  );
});

describe('tag managers, properties, 404s and forms', () => {
  it(
    "tracklet('init') configures a tag without data-* attributes, " +
      'with the calls queued before it; a second init warns',
    async () => {
      const stub =
        `<script>window.tracklet=window.tracklet||function(){(tracklet.q=tracklet.q||[` +
        `]).push(arguments)};tracklet('track','before_init');` +
        `tracklet('init',{endpoint:'/collect',site:'gtm-site',includeLocal:true,flushInterval:100,` +
        `props:{plan:'pro'}})</script>`;
      shop.route('/gtm', html(stub + '<script defer src="/dist/tracklet.js"></script>'));
      const context = await browser.newContext();
      const page = await context.newPage();
      const warnings: string[] = [];
      page.on('console', (message) => message.type() == 'warning' && warnings.push(message.text()));
      await page.goto(`${shop.origin}/gtm`);
      await shop.waitFor(
        (events) =>
          events.some((event) => event.type == 'pageview') &&
          events.some((event) => event.type == 'event'),
      );
      expect(shop.received[0].batch!.site).toBe('gtm-site');
      expect(ofType(shop, 'pageview')[0].properties).toEqual({ plan: 'pro' });
      expect(ofType(shop, 'event')[0]).toMatchObject({
        name: 'before_init',
        properties: { plan: 'pro' },
      });
      await page.evaluate(() => window.tracklet('init', { endpoint: '/elsewhere', site: 'other' }));
      expect(warnings).toEqual([expect.stringContaining('init: started already')]);
      await context.close();
    },
  );

  it('a tag without data-endpoint and no init sends nothing and says nothing', async () => {
    shop.route('/waiting', html('<script defer src="/dist/tracklet.js" data-site="s"></script>'));
    const context = await browser.newContext();
    const page = await context.newPage();
    const warnings: string[] = [];
    page.on('console', (message) => message.type() == 'warning' && warnings.push(message.text()));
    await page.goto(`${shop.origin}/waiting`);
    await ready(page);
    await page.waitForTimeout(300);
    expect(shop.received).toHaveLength(0);
    expect(warnings).toEqual([]);
    await context.close();
  });

  it("data-props and tracklet('set') add properties under each event's own, sanitised", async () => {
    shop.route(
      '/props',
      html(scriptTag({ props: '{"plan":"pro","tier":1}', 'flush-interval': '100' })),
    );
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${shop.origin}/props`);
    await ready(page);
    await page.evaluate(() => {
      window.tracklet('set', { tier: 2, fn: () => 1, nested: { ok: true } });
      window.tracklet.track('buy', { tier: 3 });
      window.tracklet('set', { plan: null });
      window.tracklet.track('later');
    });
    await shop.waitFor((events) => events.filter((event) => event.type == 'event').length == 2);
    const [pageview] = ofType(shop, 'pageview');
    const [buy, later] = ofType(shop, 'event') as (TrackletEvent & { properties: object })[];
    expect(pageview.properties).toEqual({ plan: 'pro', tier: 1 });
    expect(buy.properties).toEqual({ plan: 'pro', tier: 3, nested: { ok: true } });
    expect(later.properties).toEqual({ tier: 2, nested: { ok: true } });
    await context.close();
  });

  it("data-not-found or tracklet('notFound') in the stub queue gives the pageview status 404, once", async () => {
    shop.route('/missing', html(scriptTag({ 'not-found': 'true', 'flush-interval': '100' })));
    const stub =
      `<script>window.tracklet=window.tracklet||function(){(tracklet.q=tracklet.q||[])` +
      `.push(arguments)};tracklet('notFound')</script>`;
    shop.route(
      '/gone',
      html(
        stub +
          scriptTag({ 'flush-interval': '100' }).replace(
            'data-endpoint',
            'data-props="{}" data-endpoint',
          ),
      ),
    );
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${shop.origin}/missing`);
    await ready(page);
    await page.evaluate(() => history.pushState({}, '', '/found'));
    await page.goto(`${shop.origin}/gone`);
    await shop.waitFor((events) => events.filter((event) => event.type == 'pageview').length == 3);
    const views = ofType(shop, 'pageview') as (TrackletEvent & { status?: number })[];
    expect(views.map((view) => [view.path, view.status])).toEqual([
      ['/missing', 404],
      ['/found', undefined],
      ['/gone', 404],
    ]);
    await context.close();
  });

  it('data-forms sends form_submit with the form id, name, method and action path, never a value', async () => {
    shop.route(
      '/form',
      html(
        scriptTag({ forms: 'true', 'flush-interval': '100' }),
        `<form id="signup" name="newsletter" action="/thanks?secret=1" method="post"><input ` +
          `name="email" value="bob@example.com"><button id="send">Send</button></form>`,
      ),
    );
    shop.route('/thanks', html('', 'thanks'));
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${shop.origin}/form`);
    await ready(page);
    await page.click('#send');
    await shop.waitFor((events) => events.some((event) => event.type == 'event'));
    const [submit] = ofType(shop, 'event');
    expect(submit).toMatchObject({
      name: 'form_submit',
      properties: {
        form_id: 'signup',
        form_name: 'newsletter',
        form_method: 'post',
        form_action: '/thanks',
      },
    });
    expect(JSON.stringify(shop.received.map((request) => request.body))).not.toContain('bob');
    await context.close();
  });

  it('starts without the third file when it fails to load: the pageview still goes, without its features', async () => {
    shop.route('/nothird/tracklet.js', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      res.end(readFileSync(resolve(import.meta.dirname, '../../dist/tracklet.js')));
    });
    // No route for /nothird/tracklet.marketing.js: the fixture answers 404.
    shop.route(
      '/nothird/page',
      html(scriptTag({ props: '{"plan":"pro"}', 'flush-interval': '100' }, '/nothird/tracklet.js')),
    );
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${shop.origin}/nothird/page`);
    const [pageview] = await shop.waitFor((events) =>
      events.some((event) => event.type == 'pageview'),
    );
    expect(pageview.path).toBe('/nothird/page');
    expect(pageview.properties).toBeUndefined();
    expect(errors).toEqual([]);
    await context.close();
  });
});
