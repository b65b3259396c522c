/**
 * Runs a Google Tag Manager custom template's own tests (its ___TESTS___ section) offline, in
 * node:vm, the way GTM's template editor runs them: the setup code, then each scenario's code, with
 * `runCode(data)`, `mock()`, `assertApi()`, `assertThat()` and `fail()` in scope. The template's
 * sandboxed APIs behave as GTM's API reference describes them, against a stand-in `window`, and
 * each call is checked against the template's ___WEB_PERMISSIONS___ (a call outside them throws,
 * as it does in GTM). Only the APIs Tracklet's template uses are provided; any other `require`
 * throws, so a new one cannot slip in untested.
 */
import { createContext, runInContext } from 'node:vm';

/**
 * Structural equality, as GTM's assertions compare: arrays by their items, objects by their own
 * keys (whatever realm made them), NaN equal to itself.
 */
export const same = (a: unknown, b: unknown): boolean => {
  if (a === b || (a !== a && b !== b)) return true;
  if (Array.isArray(a) || Array.isArray(b))
    return (
      Array.isArray(a) &&
      Array.isArray(b) &&
      a.length == b.length &&
      a.every((item, i) => same(item, b[i]))
    );
  if (!a || !b || typeof a != 'object' || typeof b != 'object') return false;
  const keys = Object.keys(a);
  return (
    keys.length == Object.keys(b).length &&
    keys.every(
      (key) =>
        Object.hasOwn(b, key) &&
        same((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
    )
  );
};

/** A parsed .tpl file: its sections by name (TERMS_OF_SERVICE, INFO, …) as text. */
export type Sections = Record<string, string>;

/** Splits a .tpl file into its `___NAME___` sections. */
export const parseTemplate = (text: string): Sections => {
  const sections: Sections = {};
  const parts = text.split(/^___([A-Z_]+)___\s*$/m);
  for (let i = 1; i < parts.length; i += 2) sections[parts[i]] = parts[i + 1].trim();
  return sections;
};

/** One test scenario of a template. */
export interface Scenario {
  name: string;
  code: string;
}

/**
 * Reads the ___TESTS___ section: YAML with `scenarios:` (a list of `name` and `code`) and `setup`,
 * code in block scalars (`|` or `|-`). This reads exactly the shape GTM writes, not YAML at large.
 */
export const parseTests = (yaml: string): { scenarios: Scenario[]; setup: string } => {
  const lines = yaml.split('\n');
  const scenarios: Scenario[] = [];
  let setup = '';
  /** Reads a block scalar that starts after line `i`; returns its text and the next line index. */
  const block = (i: number, keep: boolean): [string, number] => {
    const body: string[] = [];
    let indent = -1;
    let j = i + 1;
    for (; j < lines.length; j++) {
      const line = lines[j];
      if (line.trim() == '') {
        body.push('');
        continue;
      }
      const own = line.length - line.trimStart().length;
      if (indent < 0) indent = own;
      if (own < indent) break;
      body.push(line.slice(indent));
    }
    while (body.length && body[body.length - 1] == '') body.pop();
    return [body.join('\n') + (keep ? '\n' : ''), j];
  };
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    let match: RegExpExecArray | null;
    if ((match = /^- name: (.*)$/.exec(line))) {
      scenarios.push({ name: match[1].trim(), code: '' });
      i++;
    } else if ((match = /^ {2}code: \|(-?)$/.exec(line))) {
      const [code, next] = block(i, match[1] != '-');
      scenarios[scenarios.length - 1].code = code;
      i = next;
    } else if ((match = /^setup: \|(-?)$/.exec(line))) {
      [setup, i] = block(i, match[1] != '-');
    } else if (line.trim() == '' || line == 'scenarios:') {
      i++;
    } else {
      throw new Error(`___TESTS___ line ${i + 1} is not in the shape GTM writes: ${line}`);
    }
  }
  return { scenarios, setup };
};

/** The permissions a template declares, in the shape the APIs check. */
interface Permissions {
  logging?: string;
  injectScript: string[];
  globals: Map<string, { read: boolean; write: boolean; execute: boolean }>;
}

type Value = {
  type: number;
  string?: string;
  boolean?: boolean;
  listItem?: Value[];
  mapKey?: Value[];
  mapValue?: Value[];
};
type Permission = {
  instance: { key: { publicId: string }; param: { key: string; value: Value }[] };
};

/** Reads ___WEB_PERMISSIONS___. */
export const parsePermissions = (json: string): Permissions => {
  const permissions: Permissions = { injectScript: [], globals: new Map() };
  for (const { instance } of JSON.parse(json) as Permission[]) {
    const param = (key: string) => instance.param.find((p) => p.key == key)?.value;
    if (instance.key.publicId == 'logging') permissions.logging = param('environments')?.string;
    if (instance.key.publicId == 'inject_script')
      permissions.injectScript = (param('urls')?.listItem ?? []).map((item) => item.string!);
    if (instance.key.publicId == 'access_globals') {
      for (const item of param('keys')?.listItem ?? []) {
        const map = Object.fromEntries(item.mapKey!.map((k, n) => [k.string, item.mapValue![n]]));
        permissions.globals.set(map.key.string!, {
          read: !!map.read.boolean,
          write: !!map.write.boolean,
          execute: !!map.execute.boolean,
        });
      }
    }
  }
  return permissions;
};

/**
 * GTM's URL match patterns: scheme and host must match (`*.example.com` for its subdomains, `*`
 * for any host), and the URL's path must start with the pattern's path.
 */
export const urlMatches = (pattern: string, url: string): boolean => {
  const parse = (text: string) => /^(https?):\/\/([^/]+)(\/.*)?$/.exec(text);
  const p = parse(pattern);
  const u = parse(url);
  if (!p || !u || p[1] != u[1]) return false;
  const host =
    p[2] == '*' || p[2] == u[2] || (p[2].startsWith('*.') && u[2].endsWith(p[2].slice(1)));
  return host && (u[3] ?? '/').startsWith(p[3] ?? '/');
};

/** GTM's `getType`: JavaScript's types with `null` and `array` told apart. */
const getType = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;

/** What a scenario run reports. */
export interface ScenarioResult {
  name: string;
  /** Undefined when it passed; else what failed. */
  error?: string;
  /** Assertions made (a scenario that asserts nothing proves nothing). */
  assertions: number;
  /** What the template logged with logToConsole. */
  logs: unknown[][];
}

/**
 * Runs one scenario: `setup` then its code, in a fresh context (fresh mocks, fresh window), with
 * the template's `code` behind `runCode`.
 */
export const runScenario = (
  template: { code: string; permissions: Permissions },
  setup: string,
  scenario: Scenario,
): ScenarioResult => {
  const { permissions } = template;
  const mocks = new Map<string, unknown>();
  const calls = new Map<string, unknown[][]>();
  const logs: unknown[][] = [];
  let assertions = 0;
  /** The page's window as the template sees it through the APIs. */
  const window: Record<string, unknown> = {};

  const global = (path: string, need: 'read' | 'write' | 'execute') => {
    if (!permissions.globals.get(path)?.[need])
      throw new Error(`access_globals does not allow ${need} of "${path}"`);
  };
  const lookup = (path: string): [Record<string, unknown> | undefined, string] => {
    const keys = path.split('.');
    let parent: unknown = window;
    for (const key of keys.slice(0, -1))
      parent = parent == null ? undefined : (parent as Record<string, unknown>)[key];
    return [
      parent && typeof parent == 'object'
        ? (parent as Record<string, unknown>)
        : typeof parent == 'function'
          ? (parent as never)
          : undefined,
      keys[keys.length - 1],
    ];
  };
  const get = (path: string) => {
    const [parent, key] = lookup(path);
    return parent?.[key];
  };
  const set = (path: string, value: unknown) => {
    const [parent, key] = lookup(path);
    if (!parent) throw new Error(`no object holds "${path}"`);
    parent[key] = value;
  };

  /** The APIs' behaviour on a page (GTM's API reference), each permission-checked. */
  const apis: Record<string, (...args: never[]) => unknown> = {
    callInWindow: (path: string, ...args: unknown[]) => {
      global(path, 'execute');
      const fn = get(path);
      if (typeof fn == 'function') return fn(...args);
    },
    copyFromWindow: (path: string) => {
      global(path, 'read');
      const value = get(path);
      return typeof value == 'function' || value === undefined ? value : structuredClone(value);
    },
    createArgumentsQueue: (fnKey: string, arrayKey: string) => {
      for (const key of [fnKey, arrayKey]) (global(key, 'read'), global(key, 'write'));
      if (typeof get(fnKey) != 'function') {
        set(fnKey, function (...args: unknown[]) {
          (get(arrayKey) as unknown[]).push(args);
        });
      }
      if (!Array.isArray(get(arrayKey))) set(arrayKey, []);
      return get(fnKey);
    },
    getType,
    injectScript: (url: string) => {
      if (!permissions.injectScript.some((pattern) => urlMatches(pattern, url)))
        throw new Error(`inject_script does not allow ${url}`);
      // A page would load it; here nothing answers (a scenario mocks injectScript to say how it went).
    },
    logToConsole: (...args: unknown[]) => {
      if (!permissions.logging) throw new Error('logging is not permitted');
      logs.push(args);
    },
    makeNumber: (value: unknown) => Number(value),
    makeString: (value: unknown) => String(value),
    makeTableMap: (rows: Record<string, unknown>[], keyColumn: string, valueColumn: string) => {
      if (!Array.isArray(rows)) return null;
      const map: Record<string, unknown> = {};
      for (const row of rows) map[String(row[keyColumn])] = row[valueColumn];
      return map;
    },
  };

  /** An API as the template receives it: recorded, and replaced by its mock when there is one. */
  const api =
    (name: string) =>
    (...args: unknown[]) => {
      (calls.get(name) ?? calls.set(name, []).get(name)!).push(args);
      if (mocks.has(name)) {
        const mock = mocks.get(name);
        return typeof mock == 'function' ? mock(...args) : mock;
      }
      // gtmOnSuccess and gtmOnFailure only tell GTM how the tag went: recorded, nothing more.
      return (apis[name] as ((...a: unknown[]) => unknown) | undefined)?.(...args);
    };
  const requireApi = (name: string) => {
    if (!(name in apis)) throw new Error(`require('${name}'): not provided by this harness`);
    return api(name);
  };

  // The sandbox has none of the browser's globals, nor the global constructors: they are shadowed.
  const shadowed = [
    'window',
    'document',
    'globalThis',
    'self',
    'location',
    'navigator',
    'setTimeout',
    'JSON',
    'Math',
    'Date',
    'Object',
    'Array',
    'String',
    'Number',
    'Boolean',
    'RegExp',
    'Promise',
    'Function',
    'eval',
    'encodeURIComponent',
    'parseInt',
    'parseFloat',
  ];
  // Template and scenario share one context, as they share one sandbox in GTM.
  const context = createContext({});
  const compiled = runInContext(
    `(function (require, data, ${shadowed.join(', ')}) {\n${template.code}\n})`,
    context,
  ) as (require: (name: string) => unknown, data: Record<string, unknown>) => unknown;

  const fail = (message: string): never => {
    throw new Error(message);
  };
  const show = (value: unknown) =>
    JSON.stringify(value, (_k, v) => (v === undefined ? '(undefined)' : v));
  const assertThat = (actual: unknown, message?: string) => {
    assertions++;
    const check = (ok: boolean, what: string) =>
      ok || fail(message ?? `expected ${show(actual)} ${what}`);
    return {
      isEqualTo: (expected: unknown) => check(same(actual, expected), `to equal ${show(expected)}`),
      isNotEqualTo: (expected: unknown) =>
        check(!same(actual, expected), `not to equal ${show(expected)}`),
      isStrictlyEqualTo: (expected: unknown) =>
        check(actual === expected, `to be ${show(expected)}`),
      isDefined: () => check(actual !== undefined, 'to be defined'),
      isUndefined: () => check(actual === undefined, 'to be undefined'),
      isTrue: () => check(actual === true, 'to be true'),
      isFalse: () => check(actual === false, 'to be false'),
      isNull: () => check(actual === null, 'to be null'),
      contains: (...items: unknown[]) =>
        check(
          items.every((item) => (actual as unknown[]).some((a) => same(a, item))),
          `to contain ${show(items)}`,
        ),
      hasLength: (length: number) =>
        check((actual as unknown[]).length == length, `to have length ${length}`),
    };
  };
  const assertApi = (name: string) => {
    assertions++;
    const made = () => calls.get(name) ?? [];
    const withArgs = (args: unknown[]) => made().some((call) => same(call, args));
    return {
      wasCalled: () => made().length > 0 || fail(`${name} was not called`),
      wasNotCalled: () => made().length == 0 || fail(`${name} was called: ${show(made())}`),
      wasCalledWith: (...args: unknown[]) =>
        withArgs(args) || fail(`${name} was not called with ${show(args)}; calls: ${show(made())}`),
      wasNotCalledWith: (...args: unknown[]) =>
        !withArgs(args) || fail(`${name} was called with ${show(args)}`),
    };
  };
  const runCode = (data: Record<string, unknown>) =>
    compiled(requireApi, {
      ...data,
      gtmOnSuccess: api('gtmOnSuccess'),
      gtmOnFailure: api('gtmOnFailure'),
    });
  const mock = (name: string, value: unknown) => {
    if (!(name in apis)) throw new Error(`mock('${name}'): not an API this harness knows`);
    mocks.set(name, value);
  };

  try {
    const test = runInContext(
      `(function (runCode, mock, assertApi, assertThat, fail, require) {\n${setup}\n${scenario.code}\n})`,
      context,
    );
    test(runCode, mock, assertApi, assertThat, fail, requireApi);
    if (!assertions) throw new Error('the scenario asserts nothing');
    return { name: scenario.name, assertions, logs };
  } catch (error) {
    return { name: scenario.name, error: (error as Error).message, assertions, logs };
  }
};

/** Loads a template and runs every scenario of its own tests. */
export const runTemplateTests = (
  text: string,
): { sections: Sections; results: ScenarioResult[] } => {
  const sections = parseTemplate(text);
  const template = {
    code: sections.SANDBOXED_JS_FOR_WEB_TEMPLATE,
    permissions: parsePermissions(sections.WEB_PERMISSIONS),
  };
  const { scenarios, setup } = parseTests(sections.TESTS);
  return { sections, results: scenarios.map((scenario) => runScenario(template, setup, scenario)) };
};
