/**
 * The demo SPA: an app bundled from the npm build of Tracklet, with a tiny history router.
 * It shows `init()`, `track()`, `identify()` and `reset()`; every route change is a pageview
 * (Tracklet watches pushState and popstate by itself).
 */
import {
  clicks,
  engagement,
  errors,
  identify,
  init,
  reset,
  track,
  vitals,
  type TrackletOptions,
} from 'tracklet';

const options = {
  endpoint: '/collect',
  site: 'web-app',
  includeLocal: true,
  flushInterval: 1000,
  debug: true,
  // Each automatic capture is a factory; an app bundles only the ones it imports.
  capture: [vitals(), errors(), clicks(), engagement()],
};

const view = document.getElementById('view')!;
const who = document.getElementById('who')!;
let user = sessionStorage.getItem('demo:user') || '';

const escape = (text: string) => text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** One function per route: returns the view's HTML and, optionally, wires its controls. */
const routes: Record<string, { title: string; html: () => string; wire?: () => void }> = {
  '/app/': {
    title: 'Dashboard',
    html: () =>
      `
      <div class="view-head"><h1>Dashboard</h1>
        <button class="btn" id="new-project">New project</button></div>
      <div class="stats">
        <div class="card stat"><b>12,480</b><span>sessions this week</span></div>
        <div class="card stat"><b>3.2%</b><span>converted</span></div>
        <div class="card stat"><b>newsletter</b><span>best campaign</span></div>
      </div>
      <div class="card"><h3>Try it</h3><p>Navigate with the tabs above (each is a pageview), create a project
        (<code>track('project_created')</code>) or log in (<code>identify()</code>), and watch ` +
      `the live viewer.</p></div>`,
    wire: () =>
      document.getElementById('new-project')!.addEventListener('click', () => {
        track('project_created', { template: 'blank', projects: 1 });
        view.querySelector('.card:last-child p')!.textContent =
          'Project created: a "project_created" event was sent.';
      }),
  },
  '/app/campaigns': {
    title: 'Campaigns',
    html: () => `
      <div class="view-head"><h1>Campaigns</h1>
        <select id="range" class="btn ghost"><option>Last 7 days</option><option>Last 30 days</option></select></div>
      <ul class="row-list">
        ${['newsletter / launch-week', 'google / brand', 'partner-blog / cmp-42']
          .map(
            (name, i) =>
              `<li class="card"><span>${name}</span><b>${[412, 260, 97][i]} sign-ups</b></li>`,
          )
          .join('')}
      </ul>`,
    wire: () =>
      document
        .getElementById('range')!
        .addEventListener('change', (event) =>
          track('report_filtered', { range: (event.target as HTMLSelectElement).value }),
        ),
  },
  '/app/settings': {
    title: 'Settings',
    html: () => `
      <div class="view-head"><h1>Settings</h1></div>
      <div class="card"><h3>Plan</h3><p>You are on the Free plan.</p><p>
        <button class="btn" id="upgrade">Upgrade to Pro</button>
        ${user ? '<button class="btn ghost" id="logout">Log out</button>' : ''}</p></div>`,
    wire: () => {
      document
        .getElementById('upgrade')!
        .addEventListener('click', () => track('upgrade_started', { plan: 'pro', from: 'free' }));
      document.getElementById('logout')?.addEventListener('click', () => {
        track('logout');
        reset();
        user = '';
        sessionStorage.removeItem('demo:user');
        navigate('/app/login');
      });
    },
  },
  '/app/login': {
    title: 'Log in',
    html: () =>
      `
      <form class="card login" id="login-form">
        <h1>Log in</h1>
        <label>Email <input name="email" type="email" required value="ada@example.com" autocomplete="off"></label>
        <label>Password <input name="password" type="password" required value="correct horse" ` +
      `autocomplete="off"></label>
        <label>Plan <select name="plan"><option>free</option><option ` +
      `selected>pro</option><option>team</option></select></label>
        <button class="btn" type="submit">Log in</button>
      </form>`,
    wire: () =>
      document.getElementById('login-form')!.addEventListener('submit', (event) => {
        event.preventDefault();
        const form = new FormData(event.target as HTMLFormElement);
        const email = String(form.get('email'));
        // The user id is the app's own id for the person; the password never leaves the form.
        user = 'user-' + email.split('@')[0];
        sessionStorage.setItem('demo:user', user);
        identify(user, { email, plan: String(form.get('plan')) });
        track('login', { method: 'password' });
        navigate('/app/');
      }),
  },
};

/** Shows the view for the current path; unknown paths show the dashboard. */
const render = () => {
  const route = routes[location.pathname] || routes['/app/'];
  document.title = `${route.title} — Northwind app`;
  view.innerHTML = route.html();
  route.wire?.();
  who.innerHTML = user
    ? `Signed in as <b>${escape(user)}</b>`
    : '<a href="/app/login" data-link>Log in</a>';
  for (const link of document.querySelectorAll<HTMLAnchorElement>('#app-nav a')) {
    link.toggleAttribute('aria-current', link.pathname == location.pathname);
  }
};

/** Client-side navigation: the title is set before pushState, so the pageview carries it. */
const navigate = (path: string) => {
  const route = routes[path] || routes['/app/'];
  document.title = `${route.title} — Northwind app`;
  history.pushState({}, '', path);
  render();
};

document.addEventListener('click', (event) => {
  const link = (event.target as Element).closest<HTMLAnchorElement>('a[data-link]');
  if (!link || event.metaKey || event.ctrlKey || event.shiftKey) return;
  event.preventDefault();
  if (link.pathname != location.pathname) navigate(link.pathname);
});
addEventListener('popstate', render);
render();
// Started after the first render, so that the first pageview carries the view's title.
init(options as TrackletOptions);
