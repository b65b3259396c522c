import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  html,
  launchBrowser,
  scriptTag,
  startServer,
  untilQuiet,
  type TestServer,
} from './fixture';

let server: TestServer;
let chromium: Awaited<ReturnType<typeof launchBrowser>>;
let browser: Browser;

beforeAll(async () => {
  server = await startServer();
  chromium = await launchBrowser();
  browser = chromium.browser;
});
afterAll(async () => {
  await chromium?.close();
  await server?.close();
});
beforeEach(async () => {
  await untilQuiet(server);
  server.clear();
});

const byType = (type: string) => server.events().filter((event) => event.type == type);

/** Everything the page keeps on the visitor's device: localStorage, sessionStorage and cookies. */
const stored = async (page: Page, context: BrowserContext) => ({
  local: await page.evaluate(() => ({ ...localStorage })),
  session: await page.evaluate(() => ({ ...sessionStorage })),
  cookies: (await context.cookies()).length + (await page.evaluate(() => document.cookie)).length,
});

/** Opens `path` and waits for the script to start. */
const open = async (context: BrowserContext, path: string): Promise<Page> => {
  const page = await context.newPage();
  await page.goto(server.origin + path);
  await page.waitForFunction(() => window.tracklet?.version);
  return page;
};

/** Tracks an event, flushes, and leaves time for a request that should not come. */
const trackAndWait = async (page: Page) => {
  await page.evaluate(() => {
    window.tracklet.track('probe');
    return window.tracklet.flush();
  });
  await page.waitForTimeout(400);
};

describe('consent', () => {
  it(
    'sends and stores nothing until consent(true), then ' +
      'sends the waiting events and remembers the choice',
    async () => {
      server.route('/consent', html(scriptTag({ consent: 'required' })));
      const context = await browser.newContext();
      const page = await open(context, '/consent?utm_source=news');
      await trackAndWait(page);
      expect(server.received).toHaveLength(0);
      expect(await stored(page, context)).toEqual({ local: {}, session: {}, cookies: 0 });

      await page.evaluate(() => {
        window.tracklet.consent(true);
        return window.tracklet.flush();
      });
      await server.waitFor(() => byType('pageview').length == 1 && byType('event').length == 1);
      expect(byType('pageview')[0]).toMatchObject({
        path: '/consent',
        attribution: { utm_source: 'news' },
      });
      const { local } = await stored(page, context);
      expect(local).toMatchObject({
        'tracklet:consent': '1',
        'tracklet:aid': byType('event')[0].anonymousId,
      });

      // The next page needs no new consent call, and keeps the visitor's ids.
      await page.goto(`${server.origin}/consent`);
      await page.waitForFunction(() => window.tracklet?.version);
      await page.evaluate(() => window.tracklet.flush());
      await server.waitFor(() => byType('pageview').length == 2);
      const [first, second] = byType('pageview');
      expect(second.anonymousId).toBe(first.anonymousId);
      expect(second.sessionId).toBe(first.sessionId);
      await context.close();
    },
  );

  it('takes consent queued by the stub before the script loaded', async () => {
    const stub =
      `<script>window.tracklet=window.tracklet||function(){(tracklet.q=tracklet.q||[])` +
      `.push(arguments)};tracklet('track','early');tracklet('consent',true)</script>`;
    server.route('/stub-consent', html(stub + scriptTag({ consent: 'required' })));
    const context = await browser.newContext();
    const page = await open(context, '/stub-consent');
    await page.evaluate(() => window.tracklet.flush());
    await server.waitFor(() => byType('pageview').length == 1 && byType('event').length == 1);
    expect((await stored(page, context)).local).toMatchObject({ 'tracklet:consent': '1' });
    await context.close();
  });

  it('after consent(false) sends nothing, on this page or the next, and keeps only the consent record', async () => {
    server.route('/deny', html(scriptTag({ consent: 'required' })));
    const context = await browser.newContext();
    const page = await open(context, '/deny');
    await page.evaluate(() => window.tracklet.consent(false));
    await trackAndWait(page);
    await page.goto(`${server.origin}/deny`);
    await page.waitForFunction(() => window.tracklet?.version);
    await trackAndWait(page);
    await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
    await page.close({ runBeforeUnload: true });
    await new Promise((done) => setTimeout(done, 300));
    expect(server.received).toHaveLength(0);
    const check = await context.newPage();
    await check.goto(`${server.origin}/deny`);
    expect(await stored(check, context)).toEqual({
      local: { 'tracklet:consent': '0' },
      session: {},
      cookies: 0,
    });
    await context.close();
  });

  it('consent(false) after a grant clears the stored ids and stops sending', async () => {
    server.route('/revoke', html(scriptTag()));
    const context = await browser.newContext();
    const page = await open(context, '/revoke');
    await page.evaluate(() => window.tracklet.flush());
    await server.waitFor(() => byType('pageview').length == 1);
    expect(Object.keys((await stored(page, context)).local)).toContain('tracklet:aid');
    await page.evaluate(() => window.tracklet.consent(false));
    server.clear();
    await trackAndWait(page);
    expect(server.received).toHaveLength(0);
    expect((await stored(page, context)).local).toEqual({ 'tracklet:consent': '0' });
    await context.close();
  });
});

describe('privacy signals and exclusions', () => {
  it('sends and stores nothing when Global Privacy Control is on', async () => {
    server.route('/gpc', html(scriptTag()));
    const context = await browser.newContext();
    await context.addInitScript(() =>
      Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true }),
    );
    const page = await open(context, '/gpc');
    expect(
      await page.evaluate(
        () => (navigator as Navigator & { globalPrivacyControl?: boolean }).globalPrivacyControl,
      ),
    ).toBe(true);
    await trackAndWait(page);
    expect(server.received).toHaveLength(0);
    expect(await stored(page, context)).toEqual({ local: {}, session: {}, cookies: 0 });
    await context.close();
  });

  it('sends with Global Privacy Control on when data-privacy-signals="ignore"', async () => {
    server.route('/gpc-ignored', html(scriptTag({ 'privacy-signals': 'ignore' })));
    const context = await browser.newContext();
    await context.addInitScript(() =>
      Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true }),
    );
    const page = await open(context, '/gpc-ignored');
    await page.evaluate(() => window.tracklet.flush());
    await server.waitFor(() => byType('pageview').length == 1);
    await context.close();
  });

  it('does not track 127.0.0.1 or an automated browser by default, and says so once in debug mode', async () => {
    server.route('/local', html(scriptTag({ 'include-local': 'false', debug: 'true' })));
    const context = await browser.newContext();
    const page = await context.newPage();
    const logs: string[] = [];
    page.on('console', (message) => logs.push(message.text()));
    await page.goto(`${server.origin}/local`);
    await page.waitForFunction(() => window.tracklet?.version);
    await trackAndWait(page);
    expect(server.received).toHaveLength(0);
    expect(logs.filter((text) => text.includes('not tracking'))).toEqual([
      expect.stringContaining('data-include-local="true"'),
    ]);
    expect(await stored(page, context)).toEqual({ local: {}, session: {}, cookies: 0 });
    await context.close();
  });

  it('never tracks an excluded path, also after SPA navigation into it', async () => {
    server.route('/admin/users', html(scriptTag({ exclude: '/admin/*' })));
    const context = await browser.newContext();
    const page = await open(context, '/admin/users');
    await page.evaluate(() => {
      window.tracklet.track('secret_click');
      history.pushState({}, '', '/pricing');
      history.pushState({}, '', '/admin');
      return window.tracklet.flush();
    });
    await server.waitFor(() => byType('pageview').length >= 1);
    await page.waitForTimeout(300);
    // Other events of /pricing (its engagement, sent when it was left) may come too; none of /admin.
    expect(server.events().filter((event) => event.path.startsWith('/admin'))).toEqual([]);
    expect(byType('pageview').map((event) => event.path)).toEqual(['/pricing']);
    expect(byType('event')).toEqual([]);
    await context.close();
  });

  it('sends nothing from a session sampled out (data-sample-rate="0")', async () => {
    server.route('/sampled', html(scriptTag({ 'sample-rate': '0' })));
    const context = await browser.newContext();
    const page = await open(context, '/sampled');
    await trackAndWait(page);
    expect(server.received).toHaveLength(0);
    await context.close();
  });
});

describe('cookieless mode', () => {
  it('uses no localStorage, sessionStorage or cookies; ids last for the page', async () => {
    server.route('/cookieless', html(scriptTag({ storage: 'none' })));
    const context = await browser.newContext();
    const page = await open(context, '/cookieless');
    await page.evaluate(() => window.tracklet.flush());
    await page.reload();
    await page.waitForFunction(() => window.tracklet?.version);
    await page.evaluate(() => window.tracklet.flush());
    await server.waitFor(() => byType('pageview').length == 2);
    expect(await stored(page, context)).toEqual({ local: {}, session: {}, cookies: 0 });
    const [first, second] = byType('pageview');
    expect(second.anonymousId).not.toBe(first.anonymousId);
    await context.close();
  });
});

describe('scrubbing', () => {
  it('sends no e-mail address or token from the landing URL, and keeps the campaign', async () => {
    server.route('/signup', html(scriptTag()));
    const context = await browser.newContext();
    const page = await open(
      context,
      '/signup?email=bob@example.com&utm_source=x&token=abc-private',
    );
    await page.evaluate(() => {
      window.tracklet.track('signed_up');
      return window.tracklet.flush();
    });
    await server.waitFor(() => byType('pageview').length == 1 && byType('event').length == 1);
    for (const { body } of server.received) {
      expect(body).not.toContain('bob@example.com');
      expect(body).not.toContain('bob%40example.com');
      expect(body).not.toContain('abc-private');
    }
    const [pageview] = byType('pageview');
    expect(pageview.attribution).toEqual({ utm_source: 'x' });
    expect(pageview.url).toMatch(/\?email=\[redacted\]&utm_source=x&token=\[redacted\]$/);
    await context.close();
  });
});

describe('strict Content-Security-Policy', () => {
  const CSP = "default-src 'none'; script-src 'self'; connect-src 'self'; report-uri /csp-report";
  const reports: string[] = [];

  const serveWithCsp = (path: string, body: string) =>
    server.route(path, (_req, res) => {
      res.writeHead(200, {
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Security-Policy': CSP,
      });
      res.end(body);
    });

  const openWatched = async (path: string) => {
    const context = await browser.newContext();
    // Init scripts are not subject to the page's CSP: the listener sees every violation.
    await context.addInitScript(() => {
      const seen: string[] = ((window as unknown as { violations: string[] }).violations = []);
      document.addEventListener('securitypolicyviolation', (event) =>
        seen.push(event.violatedDirective + ' ' + event.blockedURI),
      );
    });
    const page = await context.newPage();
    await page.goto(server.origin + path);
    return {
      context,
      page,
      violations: () =>
        page.evaluate(() => (window as unknown as { violations: string[] }).violations),
    };
  };

  beforeAll(() => {
    server.route('/csp-report', (_req, res, body) => {
      reports.push(body);
      res.writeHead(204);
      res.end();
    });
  });

  it('reports a violation for an inline script (the check itself works)', async () => {
    serveWithCsp('/csp-control', html('<script>window.inline = 1</script>'));
    const { context, violations } = await openWatched('/csp-control');
    await expect.poll(violations).toEqual([expect.stringContaining('script-src')]);
    await context.close();
  });

  it('works under script-src self / connect-src the collector with no violation', async () => {
    reports.length = 0;
    serveWithCsp('/csp', html(scriptTag()));
    const { context, page, violations } = await openWatched('/csp');
    await page.waitForFunction(() => window.tracklet?.version);
    await page.evaluate(() => {
      window.tracklet.track('csp_ok');
      return window.tracklet.flush();
    });
    await server.waitFor(() => byType('pageview').length == 1 && byType('event').length == 1);
    await page.waitForTimeout(300);
    expect(await violations()).toEqual([]);
    expect(reports).toEqual([]);
    await context.close();
  });
});
