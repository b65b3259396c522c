import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  describe as describeValue,
  errors,
  ignored,
  normalise,
  parsePatterns,
} from '../../../src/capture/errors';
import { startCapture } from './context';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

const thrown = (error: unknown, init: Partial<ErrorEventInit> = {}) =>
  new ErrorEvent('error', {
    error,
    message:
      error instanceof Error ? 'Uncaught ' + error.name + ': ' + error.message : String(error),
    filename: 'https://s.example/app.js',
    lineno: 10,
    colno: 5,
    ...init,
  });
const rejected = (reason: unknown) => Object.assign(new Event('unhandledrejection'), { reason });

const circular: Record<string, unknown> = {};
circular.self = circular;

describe('error normalisation', () => {
  it('reads a thrown TypeError with its place and stack', () => {
    const error = new TypeError("Cannot read properties of undefined (reading 'x')");
    expect(normalise(thrown(error))).toEqual({
      type: 'error',
      message: "Uncaught TypeError: Cannot read properties of undefined (reading 'x')",
      errorType: 'TypeError',
      filename: 'https://s.example/app.js',
      lineno: 10,
      colno: 5,
      stack: error.stack,
    });
  });

  it('keeps a cross-origin "Script error." as such', () => {
    expect(
      normalise(thrown(null, { message: 'Script error.', filename: '', lineno: 0, colno: 0 })),
    ).toEqual({
      type: 'error',
      message: 'Script error.',
      errorType: 'Error',
    });
  });

  it.each([
    [new RangeError('too deep'), 'too deep', 'RangeError'],
    ['plain string', 'plain string', 'UnhandledRejection'],
    [{ code: 42 }, '{"code":42}', 'UnhandledRejection'],
    [undefined, 'undefined', 'UnhandledRejection'],
    [null, 'null', 'UnhandledRejection'],
    [circular, '[object Object]', 'UnhandledRejection'],
    [Symbol('s'), 'Symbol(s)', 'UnhandledRejection'],
  ])('reads a rejection with reason %o as %j (%s)', (reason, message, errorType) => {
    expect(normalise(rejected(reason))).toMatchObject({ type: 'error', message, errorType });
  });

  it('cuts a huge message to 2000 characters', () => {
    expect(normalise(rejected('x'.repeat(10_000))).message).toHaveLength(2000);
  });

  it.each([
    ['ResizeObserver loop, /^Network.*failed$/i , ', 'ResizeObserver loop completed', true],
    ['ResizeObserver loop, /^Network.*failed$/i', 'network request FAILED', true],
    ['ResizeObserver loop, /^Network.*failed$/i', 'TypeError: x is undefined', false],
    ['/[unclosed/', 'a [unclosed/ bracket', false],
    ['', 'anything', false],
  ])('ignore patterns %j on %j: %s', (list, message, expected) => {
    expect(ignored(message, parsePatterns(list))).toBe(expected);
  });

  it('describes values readably', () => {
    expect(describeValue(new Error('m'))).toBe('m');
    expect(describeValue([1, 2])).toBe('[1,2]');
  });
});

describe('error capture', () => {
  it('sends an error within a second, with the fields of the wire format', () => {
    const { events } = startCapture(errors());
    dispatchEvent(thrown(new TypeError('boom')));
    expect(events).toHaveLength(0);
    vi.advanceTimersByTime(1000);
    expect(events).toMatchObject([
      {
        type: 'error',
        errorType: 'TypeError',
        message: 'Uncaught TypeError: boom',
        lineno: 10,
        count: 1,
      },
    ]);
  });

  it('sends identical errors once with their count, and later repeats as one more count at page end', () => {
    const test = startCapture(errors());
    for (let i = 0; i < 50; i++) dispatchEvent(thrown(new TypeError('loop')));
    dispatchEvent(thrown(new TypeError('other')));
    vi.advanceTimersByTime(1000);
    expect(test.events.map((event) => 'count' in event && event.count)).toEqual([50, 1]);
    for (let i = 0; i < 500; i++) dispatchEvent(thrown(new TypeError('loop')));
    vi.advanceTimersByTime(60_000);
    expect(test.events).toHaveLength(2);
    test.fire('hide');
    test.fire('hide');
    expect(test.events.map((event) => 'count' in event && event.count)).toEqual([50, 1, 500]);
  });

  it('counts an error reached by two call paths (two stacks) as one: same type, message and place', () => {
    const test = startCapture(errors());
    for (const caller of ['a', 'b']) {
      const error = new TypeError('shared');
      error.stack = `TypeError: shared\n    at fail (app.js:10:5)\n    at ${caller} (app.js:1:1)`;
      dispatchEvent(thrown(error));
    }
    dispatchEvent(thrown(new TypeError('shared'), { lineno: 11 }));
    vi.advanceTimersByTime(1000);
    expect(test.events).toMatchObject([
      { message: 'Uncaught TypeError: shared', lineno: 10, count: 2 },
      { message: 'Uncaught TypeError: shared', lineno: 11, count: 1 },
    ]);
    expect((test.events[0] as { stack?: string }).stack).toContain('at a ');
  });

  it('caps the errors of a page view at maxErrors, and starts again on the next page view', () => {
    const test = startCapture(errors(), { maxErrors: 3 });
    for (let i = 0; i < 10; i++) dispatchEvent(thrown(new Error('e' + i)));
    vi.advanceTimersByTime(1000);
    expect(test.events).toHaveLength(3);
    test.pageview('/next');
    dispatchEvent(thrown(new Error('again')));
    vi.advanceTimersByTime(1000);
    expect(test.events.filter((event) => event.type == 'error')).toHaveLength(4);
  });

  it('npm options override the config: maxErrors and ignore patterns', () => {
    const test = startCapture(
      errors({ maxErrors: 1, ignore: ['noise', /^Uncaught Error: skip/] }),
      { maxErrors: 50 },
    );
    dispatchEvent(thrown(new Error('noise here')));
    dispatchEvent(thrown(new Error('skip me')));
    dispatchEvent(thrown(new Error('kept')));
    dispatchEvent(thrown(new Error('over the cap')));
    vi.advanceTimersByTime(1000);
    expect(test.events).toMatchObject([{ message: 'Uncaught Error: kept' }]);
  });

  it('reads data-ignore-errors from the config', () => {
    const test = startCapture(errors(), { ignoreErrors: 'ResizeObserver, /chunk \\d+ failed/' });
    dispatchEvent(thrown(new Error('ResizeObserver loop limit exceeded')));
    dispatchEvent(thrown(new Error('Loading chunk 12 failed')));
    dispatchEvent(rejected(new Error('real')));
    vi.advanceTimersByTime(1000);
    expect(test.events).toMatchObject([{ message: 'real', errorType: 'Error' }]);
  });

  it('sends pending errors at hide and at the end of an SPA page view, with the old path', () => {
    history.replaceState({}, '', '/first');
    const test = startCapture(errors());
    dispatchEvent(rejected('hidden soon'));
    test.fire('hide');
    expect(test.events).toMatchObject([{ message: 'hidden soon', count: 1 }]);
    dispatchEvent(rejected('navigating'));
    test.pageview('/second');
    expect(test.events.slice(1)).toMatchObject([
      { type: 'error', message: 'navigating', path: '/first' },
      { type: 'pageview', path: '/second' },
    ]);
    expect(test.events[1].url).toMatch(/\/first$/);
  });

  it('ignores a bare error Event that carries nothing', () => {
    const test = startCapture(errors());
    dispatchEvent(new Event('error'));
    vi.advanceTimersByTime(1000);
    expect(test.events).toHaveLength(0);
  });

  it('contains its own failures: the listener never throws into the page', () => {
    const test = startCapture(errors());
    test.failing = true;
    dispatchEvent(thrown(new Error('x')));
    expect(() => vi.advanceTimersByTime(1000)).not.toThrow();
    expect(() => test.fire('hide')).not.toThrow();
  });
});
