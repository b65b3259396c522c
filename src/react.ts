/**
 * Tracklet for React: `<TrackletProvider options={…}>` around the app starts the tracker once in
 * the browser; `useTracklet()` gives any component `track()`, `page()`, `identify()`…
 * Nothing runs on the server: rendering (`renderToString`, React Server Components' client
 * boundary) never starts a tracker, and the module touches no browser global when imported.
 */
import {
  createContext,
  createElement,
  useContext,
  useEffect,
  type ReactElement,
  type ReactNode,
} from 'react';
import {
  consent,
  flush,
  getAnonymousId,
  getSessionId,
  identify,
  init,
  page,
  reset,
  track,
  type TrackletOptions,
} from './index';

/** What `useTracklet()` returns: the calls of the `tracklet` package, one object for the app's whole life. */
export interface TrackletClient {
  track: typeof track;
  page: typeof page;
  identify: typeof identify;
  flush: typeof flush;
  reset: typeof reset;
  consent: typeof consent;
  getAnonymousId: typeof getAnonymousId;
  getSessionId: typeof getSessionId;
}

/** Props of `<TrackletProvider>`. */
export interface TrackletProviderProps {
  /** The options of `init()`. Read once, on the first mount: later changes are ignored. */
  options: TrackletOptions;
  children?: ReactNode;
}

/** True below a provider: a nested one must not start Tracklet (its effect would run before the outer one's). */
const Inside = createContext(false);

// One tracker per page, as with the `tracklet` package itself: the client is a constant, so a
// component that puts it in a dependency list never re-runs for it.
const client: TrackletClient = Object.freeze({
  track,
  page,
  identify,
  flush,
  reset,
  consent,
  getAnonymousId,
  getSessionId,
});

/**
 * Starts Tracklet with `options` once the app has mounted in the browser, and renders its children.
 * A re-render, StrictMode's mount–unmount–mount or a second provider starts no second tracker:
 * `init()` only ever runs once per page, and a provider inside another one is ignored with a
 * warning (children's effects run before their parents', so it would otherwise win on a deep
 * link). Calls made by children before the provider's effect wait and are sent after it.
 */
export function TrackletProvider({ options, children }: TrackletProviderProps): ReactElement {
  const nested = useContext(Inside);
  // The options are read once: an inline object is a new one on every render.
  useEffect(() => {
    if (nested)
      console.warn(
        '[tracklet] a TrackletProvider inside another one is ignored: the outermost one starts Tracklet',
      );
    else init(options);
  }, []);
  return createElement(Inside.Provider, { value: true }, children);
}

/** The Tracklet calls, for use in any component (inside or outside the provider's tree). */
export function useTracklet(): TrackletClient {
  return client;
}
