// The production script tag in real Chromium with an `exclude` pattern that is no text (a regular
// expression from a tag manager): the pattern is ignored with a warning, and tracking goes on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { html, launchBrowser, startServer, type TestServer } from './fixture';

let server: TestServer;
let chromium: Awaited<ReturnType<typeof launchBrowser>>;

beforeAll(async () => {
  server = await startServer();
  chromium = await launchBrowser();
});
afterAll(async () => {
  await chromium?.close();
  await server?.close();
});

describe("tracklet('init') with an exclude pattern that is no text", () => {
  it('ignores the pattern with a warning, keeps the others, and tracks', async () => {
    const stub =
      `<script>window.tracklet=window.tracklet||function(){(tracklet.q=tracklet.q||[` +
      `]).push(arguments)};tracklet('init',{endpoint:'/collect',site:'s',includeLocal:true,` +
      `flushInterval:100,exclude:[/admin/,'/secret/*']});tracklet('track','home')</script>`;
    server.route('/', html(stub + '<script defer src="/dist/tracklet.js"></script>'));
    const context = await chromium.browser.newContext();
    const page = await context.newPage();
    const warnings: string[] = [];
    page.on('console', (message) => message.type() == 'warning' && warnings.push(message.text()));
    await page.goto(`${server.origin}/`);
    await server.waitFor((events) => events.some((event) => event.type == 'event'));
    await page.evaluate(() => {
      history.pushState(null, '', '/secret/page');
      window.tracklet('track', 'secret');
      history.pushState(null, '', '/other');
      window.tracklet('track', 'last');
    });
    await server.waitFor((events) =>
      events.some((event) => 'name' in event && event.name == 'last'),
    );
    const names = server
      .events()
      .filter((event) => event.type == 'pageview' || event.type == 'event')
      .map((event) => ('name' in event && event.name) || event.path);
    expect(names).toEqual(['/', 'home', '/other', 'last']);
    expect(warnings).toEqual(['[tracklet] exclude: not a path pattern, ignored: /admin/']);
    await context.close();
  });
});
