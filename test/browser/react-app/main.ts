/**
 * A small React app as a Next.js App Router site behaves in the browser, bundled by Vite for the
 * real-browser test (test/browser/react.test.ts). Written with createElement so that the
 * repository's type check needs no JSX settings.
 *
 * What it reproduces of the App Router's history use: links navigate without a page load; after
 * each commit a history updater writes the router's own state object into the entry, with
 * `pushState` for a navigation and `replaceState` of the same URL otherwise (the first mount, a
 * `router.refresh()`); back and forward come as `popstate`.
 */
import {
  createElement as h,
  StrictMode,
  useEffect,
  useInsertionEffect,
  useRef,
  useState,
  type ReactNode,
} from 'react';
import { createRoot } from 'react-dom/client';
import { TrackletProvider, useTracklet } from 'tracklet/react';

declare global {
  interface Window {
    /** How often the app's root effect ran: 2 under StrictMode in development (mount, unmount, mount). */
    appMounts: number;
    /** How often the app rendered its layout. */
    appRenders: number;
  }
}
window.appMounts = 0;
window.appRenders = 0;

/** The state the App Router keeps in each history entry (its own keys). */
const routerState = (tree: unknown) => ({ __NA: true, __PRIVATE_NEXTJS_INTERNALS_TREE: tree });

interface Route {
  url: string;
  /** Bumped by refresh(): a new tree for the same URL. */
  version: number;
  /** A navigation waiting for its commit to push the URL. */
  pendingPush: boolean;
}

const here = () => location.pathname + location.search;

/** After each commit: push the URL of a navigation, else replace the entry with the same URL. */
function HistoryUpdater({ route }: { route: Route }): null {
  useInsertionEffect(() => {
    const state = routerState(['', route.url, route.version]);
    if (route.pendingPush && here() != route.url) {
      route.pendingPush = false;
      history.pushState(state, '', route.url);
    } else {
      history.replaceState(state, '', route.url);
    }
  }, [route]);
  return null;
}

function Link({
  href,
  go,
  children,
}: {
  href: string;
  go: (href: string) => void;
  children?: ReactNode;
}) {
  return h(
    'a',
    { href, onClick: (event: { preventDefault(): void }) => (event.preventDefault(), go(href)) },
    children,
  );
}

function BuyButton({ sku }: { sku: string }) {
  const { track } = useTracklet();
  return h('button', { id: 'buy', onClick: () => track('add_to_cart', { sku }) }, 'Add to cart');
}

/** Sends `product_viewed` once per mount; the ref keeps StrictMode's second effect run from sending it again. */
function ProductViewed({ sku }: { sku: string }): null {
  const { track } = useTracklet();
  const sent = useRef(false);
  useEffect(() => {
    if (sent.current) return;
    sent.current = true;
    track('product_viewed', { sku });
  }, [sku, track]);
  return null;
}

function Page({ url }: { url: string }) {
  const path = url.replace(/\?.*/, '');
  if (path == '/app/products') return h('h1', null, 'Products');
  if (path == '/app/products/42')
    return h(
      'section',
      null,
      h('h1', null, 'Product 42'),
      h(ProductViewed, { sku: '42' }),
      h(BuyButton, { sku: '42' }),
      // A second provider deeper in the tree (another site): it must start nothing.
      h(
        TrackletProvider,
        { options: { endpoint: '/collect', site: 'second-provider', includeLocal: true } },
        h('p', null, 'Nested provider'),
      ),
    );
  if (path == '/app/about') return h('h1', null, 'About');
  return h('h1', null, 'Home');
}

function App() {
  const [route, setRoute] = useState<Route>({ url: here(), version: 0, pendingPush: false });
  window.appRenders++;
  useEffect(() => {
    window.appMounts++;
    const onPop = () => setRoute({ url: here(), version: 0, pendingPush: false });
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);
  const go = (href: string) => setRoute({ url: href, version: 0, pendingPush: true });
  const refresh = () =>
    setRoute((current) => ({ url: current.url, version: current.version + 1, pendingPush: false }));
  return h(
    // A new options object on every render, as an inline prop is: it must not start a second tracker.
    TrackletProvider,
    {
      options: { endpoint: '/collect', site: 'react-app', includeLocal: true, flushInterval: 100 },
    },
    h(HistoryUpdater, { route }),
    h(
      'nav',
      null,
      h(Link, { href: '/app/', go }, 'Home'),
      ' ',
      h(Link, { href: '/app/products', go }, 'Products'),
      ' ',
      h(Link, { href: '/app/products/42', go }, 'Product 42'),
      ' ',
      h(Link, { href: '/app/about?from=nav', go }, 'About'),
      ' ',
      h('button', { id: 'refresh', onClick: refresh }, 'Refresh'),
    ),
    h('main', null, h(Page, { url: route.url })),
  );
}

createRoot(document.getElementById('root')!).render(h(StrictMode, null, h(App)));
