/**
 * The options' defaults, their `data-*` attribute names, and validation (their types are in
 * `core/contract.ts`, which captures import too).
 */
import type { Config } from './core/contract';
import { warn } from './core/log';
import { stringify } from './tag/clean';

/**
 * Every option with its default, whose type is the type the option must have. A number option
 * lists `[default, min, max]` (inclusive); an enumerated one its choices, the default first; a
 * list option is `[]`. `endpoint` and `site` (empty) must be given.
 */
const OPTIONS: Record<
  keyof Omit<Config, 'capture' | 'beforeSend' | 'compress' | 'encode' | 'gzip' | 'zip'>,
  unknown
> = {
  endpoint: '',
  site: '',
  autoPageview: true,
  spa: ['history', 'hash', 'off'],
  batchSize: [10, 1, 100],
  flushInterval: [5000, 0, 3_600_000],
  sessionTimeout: [30, 1, 1440],
  outboxMaxEvents: [1000, 1, 100_000],
  outboxMaxBytes: [524288, 65_536, 4_194_304],
  outboxMaxAge: [7, 1, 365],
  debug: false,
  consent: ['implied', 'required'],
  storage: ['local', 'none'],
  privacySignals: ['respect', 'ignore'],
  includeLocal: false,
  exclude: [],
  sampleRate: [1, 0, 1],
  scrub: true,
  scrubParams: [],
  vitals: true,
  errors: true,
  clicks: true,
  engagement: true,
  maxErrors: [20, 1, 1000],
  ignoreErrors: '',
  outbound: false,
  downloads: '',
};

/** `batchSize` → `data-batch-size`. */
export const attributeName = (key: string): string =>
  'data-' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());

/** Reads the options of a script tag from its `data-*` attributes (strings, validated later). */
export const fromAttributes = (element: Element): Record<string, unknown> => {
  const options: Record<string, unknown> = {};
  for (const key in OPTIONS) {
    const value = element.getAttribute(attributeName(key));
    if (value != null) options[key] = value;
  }
  if (element.getAttribute('data-compress') == 'false') options.compress = false;
  return options;
};

/** An absolute http(s) URL for `value` (relative to the page), or undefined. */
const httpUrl = (value: string): string | undefined => {
  try {
    const url = new URL(value, location.href);
    if (/^https?:$/.test(url.protocol)) return url.href;
  } catch {
    // Unparseable: refused like another scheme.
  }
};

/** The items of a comma-separated attribute, trimmed, empty ones left out. */
const splitList = (value: string): string[] =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

/** What an option must be, for the debug build's warning. */
const expectation = (
  key: string,
  fallback: unknown,
  range: unknown,
  choices: unknown,
  fromTag: boolean,
) =>
  typeof fallback == 'boolean'
    ? fromTag
      ? '"true" or "false"'
      : 'a boolean'
    : range
      ? `a number from ${(range as number[])[1]} to ${(range as number[])[2]}`
      : Array.isArray(fallback)
        ? fromTag
          ? 'a comma-separated list'
          : 'an array of strings'
        : choices
          ? 'one of ' + (choices as string[]).join(', ')
          : key == 'endpoint'
            ? 'the collector URL (http or https)'
            : 'a non-empty string';

/**
 * A script tag's attribute string as the type its option has (`"true"` → true, `"20"` → 20), for
 * validation; other values as they are.
 */
const fromString = (value: unknown, type: string): unknown =>
  type == 'boolean'
    ? value === '' || value === 'true' || (value !== 'false' && value)
    : type == 'number' && typeof value == 'string' && value.trim()
      ? +value
      : value;

/**
 * Validates options (typed values from `init()`, or attribute strings from a script tag) and fills
 * in defaults. A missing or invalid value gets one warning naming it (and, in the debug build, what
 * was expected), and no config is returned: the tracker then stays inert.
 */
export const resolveConfig = (
  options: Record<string, unknown>,
  fromTag: boolean,
): Config | undefined => (fromTag ? check(options, fromString, attributeName) : check(options));

/**
 * The options of `init()` validated, with defaults filled in (`resolveConfig` for typed values: the
 * npm build bundles no attribute handling).
 */
export const resolveOptions = (options: Record<string, unknown>): Config | undefined =>
  check(options);

/**
 * Validates options: `typed` turns attribute strings into the types of their options, and `named`
 * gives the name a warning uses (the attribute's).
 */
const check = (
  options: Record<string, unknown>,
  typed?: (value: unknown, type: string) => unknown,
  named?: (key: string) => string,
): Config | undefined => {
  const config: Record<string, unknown> = {
    capture: Array.isArray(options.capture) ? options.capture : [],
    beforeSend: typeof options.beforeSend == 'function' ? options.beforeSend : undefined,
  };
  // gzip unless turned off: the option is only present when it is.
  if (options.compress === false || options.compress === 'false') config.compress = false;
  for (const key in OPTIONS) {
    const spec = OPTIONS[key as keyof typeof OPTIONS];
    // A list (empty), a number ([default, min, max]) or a choice ([default, other choices…]).
    const list = Array.isArray(spec) ? spec : [];
    const range = typeof list[0] == 'number' ? (list as number[]) : undefined;
    const choices = typeof list[0] == 'string' ? (list as string[]) : undefined;
    const fallback = range ? range[0] : choices ? choices[0] : spec;
    const type = typeof fallback;
    // The two options that must be given; every other one has a default.
    const required = key == 'endpoint' || key == 'site';
    const raw = options[key];
    let value = raw;
    let valid: unknown = 1;
    if (value === undefined && !required) value = fallback;
    else if (type == 'boolean') {
      if (typed) value = typed(value, type);
      valid = typeof value == type;
    } else if (range) {
      if (typed) value = typed(value, type);
      valid =
        typeof value == type && (value as number) >= range[1] && (value as number) <= range[2];
    } else if (Array.isArray(fallback)) {
      // A list: a comma-separated attribute, or an array of strings from init().
      if (typeof value == 'string') value = splitList(value);
      valid = Array.isArray(value) && value.every((item) => typeof item == 'string');
    } else
      valid =
        typeof value == 'string' &&
        (value || !required) &&
        (!choices || choices.includes(value)) &&
        (key != 'endpoint' || (value = httpUrl(value)));
    if (!valid) {
      const name = named ? named(key) : key;
      const given = raw === undefined ? 'missing' : stringify(raw);
      warn(
        DEBUG
          ? `${name} is ${given}: expected ${expectation(key, fallback, range, choices, !!named)}. Tracking is off.`
          : `${name} is ${given}. Tracking is off.`,
      );
      return;
    }
    config[key] = value;
  }
  return config as Config;
};
