/**
 * 404 pages: the pageview of a page marked not found carries `status: 404`. Marked by
 * `data-not-found="true"` on the tag, `init({ notFound: true })`, or `tracklet('notFound')` /
 * `notFound()` before the page's pageview (from the stub queue, or on npm before `init()`).
 */
import type { Capture } from '../core/contract';
import { log } from '../core/log';
import { beforeEach } from './decorate';

/** The page marked not found (its path as Tracklet reports it), and the path of the last pageview sent. */
const page: { marked?: string; viewed?: string; path?: () => string } = {};

/**
 * Marks the current page as not found: its pageview carries `status: 404`. When that pageview has
 * already been sent, none is sent again: the next pageview of the same path (a `page()` call, as a
 * single-page app's not-found route may make) carries it instead.
 */
export const markNotFound = (): void => {
  page.marked = page.path ? page.path() : location.pathname;
  if (page.viewed == page.marked)
    log(
      'notFound: the page view was sent already; the next page() of this path carries status 404',
    );
};

/** The capture that puts `status: 404` on the marked page's pageview (`marked`: the current page is marked now). */
export const notFound =
  (marked?: boolean): Capture =>
  ({ config, on, path }) => {
    page.path = path;
    page.viewed = undefined;
    if (marked) markNotFound();
    on('pageview', (event) => (page.viewed = event.path));
    return beforeEach(config, (event) => {
      if (event.type != 'pageview') return;
      if (event.path == page.marked) event.status = 404;
      // Another page of a single-page app is not the missing one.
      else page.marked = undefined;
    });
  };
