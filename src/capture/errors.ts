import type { Capture, Context } from '../core/contract';
import type { ErrorEvent as ErrorFields } from '../types';
import { log } from '../core/log';
import { safe } from '../core/safe';
import { splitList } from './list';

/** Options of the error capture (npm); on a script tag they are `data-max-errors` and `data-ignore-errors`. */
export interface ErrorOptions {
  /** Errors sent per page view at most. Default 20 (`data-max-errors`). */
  maxErrors?: number;
  /** Messages to ignore: substrings or regular expressions. Default none (`data-ignore-errors`). */
  ignore?: (string | RegExp)[];
}

/** The error fields of the wire format, before the common ones are added. */
export type ErrorReport = Pick<
  ErrorFields,
  'type' | 'message' | 'filename' | 'lineno' | 'colno' | 'stack' | 'errorType'
> &
  Partial<Pick<ErrorFields, 'path' | 'url'>>;

/** A readable text for anything thrown or rejected: `Error`s keep their message, objects become JSON. */
export const describe = (value: unknown): string => {
  if (typeof value == 'string') return value;
  if (value instanceof Error) return value.message;
  try {
    const json = JSON.stringify(value);
    if (json && json != '{}') return json;
  } catch {
    // Circular or otherwise unserialisable: fall back to String().
  }
  return String(value);
};

/**
 * An `error` event (a throw) or an `unhandledrejection` (a rejection) as wire fields. A message and
 * a stack are cut at 2000 characters: a runaway `JSON.stringify` or stack must not fill a batch.
 */
export const normalise = (event: Event): ErrorReport => {
  const { message, filename, lineno, colno, error, reason } = event as ErrorEvent &
    PromiseRejectionEvent;
  const rejection = 'reason' in event;
  const thrown = rejection ? reason : error;
  // An `Error`'s name and stack, none for anything else.
  const { name, stack } = (thrown instanceof Error ? thrown : {}) as Partial<Error>;
  return {
    type: 'error',
    // A rejection has no `message`. A cross-origin script's error reaches the page as "Script
    // error." with no details; it is kept as such.
    message: (message || describe(thrown)).slice(0, 2000),
    errorType: name || (rejection ? 'UnhandledRejection' : 'Error'),
    // The place and the stack only when known.
    ...(filename && { filename, lineno, colno }),
    ...(stack && { stack: stack.slice(0, 2000) }),
  };
};

/** `"a, /b+/i"` → `['a', /b+/i]`: comma-separated substrings or `/regex/flags`. */
export const parsePatterns = (list: string): (string | RegExp)[] =>
  splitList(list).map((item) => {
    // Not a `/regex/flags` (exec gives null) or not a valid one: the text itself.
    try {
      const [, source, flags] = /^\/(.+)\/([a-z]*)$/.exec(item)!;
      return new RegExp(source, flags);
    } catch {
      return item;
    }
  });

/** True when `message` matches one of the patterns. */
export const ignored = (message: string, patterns: (string | RegExp)[]): boolean =>
  patterns.some((pattern) =>
    (pattern as RegExp).test
      ? (pattern as RegExp).test(message)
      : message.includes(pattern as string),
  );

/**
 * JavaScript errors: uncaught throws (`error` on window) and unhandled promise rejections. An
 * error is sent at most a second after it first happens; identical ones (same type, message and
 * place) meanwhile only raise its `count`. Repeats after it was sent are counted and sent once more,
 * as the `count` since, when the page view ends or the page is hidden, so the counts of a page view
 * sum to its total. At most `maxErrors` events per page view: a loop that throws every frame sends
 * two, not thousands.
 */
export const errors =
  (options: ErrorOptions = {}): Capture =>
  (context: Context) => {
    const { emit, on, path, config } = context;
    // A script tag's `data-max-errors` is text: read as a number, 20 when it is none.
    const max = options.maxErrors ?? (+config.maxErrors || 20);
    const patterns = options.ignore ?? parsePatterns(config.ignoreErrors);
    // Per page view: each distinct error, its `count` the occurrences not yet sent.
    const seen = new Map<string, ErrorReport & { count: number }>();
    let sent = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;

    const send = () => {
      clearTimeout(timer);
      timer = undefined;
      seen.forEach((report) => {
        if (report.count && sent++ < max) emit({ ...report });
        else if (DEBUG && report.count) log('error over data-max-errors dropped', report.message);
        report.count = 0;
      });
    };

    const onError = safe((event: Event) => {
      // Only script errors and rejections: a bare `Event('error')` dispatched on window carries nothing.
      if (!('reason' in event || 'message' in event)) return;
      const report = normalise(event);
      if (ignored(report.message, patterns)) return;
      // Same type, message and place: the same error (its stack may differ by the way it came).
      const key = JSON.stringify({ ...report, stack: 0 });
      const entry = seen.get(key);
      if (entry) entry.count++;
      else {
        // The page it happened on: an SPA navigation may come before it is sent.
        seen.set(key, { ...report, path: path(), url: location.href, count: 1 });
        timer ||= setTimeout(safe(send), 1000);
      }
    });
    addEventListener('error', onError);
    addEventListener('unhandledrejection', onError);
    // Errors the script tag's first file kept while this capture was on its way.
    (context as Context & { earlyErrors?: Event[] }).earlyErrors?.forEach(onError);
    on('hide', send);
    on('page', () => {
      send();
      seen.clear();
      sent = 0;
    });
    if (TEARDOWN)
      return () => {
        clearTimeout(timer);
        removeEventListener('error', onError);
        removeEventListener('unhandledrejection', onError);
      };
  };
