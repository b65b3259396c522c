// The Google Tag Manager template (gtm/tracklet.tpl): its own tests, in GTM's format, run by the
// offline harness (test/gtm/harness.ts), and the checks GTM's editor makes when importing it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  parsePermissions,
  parseTemplate,
  parseTests,
  runScenario,
  runTemplateTests,
  urlMatches,
} from '../gtm/harness';

const TEXT = readFileSync(join(import.meta.dirname, '../../gtm/tracklet.tpl'), 'utf8');
const { sections, results } = runTemplateTests(TEXT);

interface Param {
  type: string;
  name: string;
  subParams?: Param[];
  enablingConditions?: { paramName: string; paramValue: string; type: string }[];
  selectItems?: { value: string }[];
  radioItems?: { value: string }[];
  defaultValue?: unknown;
}
const flatten = (params: Param[]): Param[] =>
  params.flatMap((param) => [param, ...flatten(param.subParams ?? [])]);
const params = flatten(JSON.parse(sections.TEMPLATE_PARAMETERS) as Param[]);
const fields = params.filter((param) => param.type != 'GROUP');
const code = sections.SANDBOXED_JS_FOR_WEB_TEMPLATE;

describe('the GTM template’s own tests', () => {
  it('has scenarios, every one found by the harness', () => {
    expect(results.length).toBeGreaterThanOrEqual(10);
    expect(results.length).toBe((sections.TESTS.match(/^- name: /gm) ?? []).length);
  });

  it.each(results.map((result) => [result.name, result] as const))('%s', (_name, result) => {
    expect(result.error).toBeUndefined();
    expect(result.assertions).toBeGreaterThan(0);
  });
});

describe('the template as GTM imports it', () => {
  it('has the sections of an exported web tag template', () => {
    expect(Object.keys(sections)).toEqual([
      'TERMS_OF_SERVICE',
      'INFO',
      'TEMPLATE_PARAMETERS',
      'SANDBOXED_JS_FOR_WEB_TEMPLATE',
      'WEB_PERMISSIONS',
      'TESTS',
      'NOTES',
    ]);
    expect(JSON.parse(sections.INFO)).toMatchObject({
      type: 'TAG',
      id: 'cvt_temp_public_id',
      displayName: 'Tracklet',
      containerContexts: ['WEB'],
    });
  });

  it('names each field once, and every field the code reads exists', () => {
    const names = fields.map((param) => param.name);
    expect(new Set(names).size).toBe(names.length);
    const read = new Set([...code.matchAll(/\bdata\.(\w+)/g)].map((match) => match[1]));
    for (const name of read) expect(['gtmOnSuccess', 'gtmOnFailure', ...names]).toContain(name);
    // Options read by key from lists in the code, too.
    for (const key of [
      'autoPageview',
      'spa',
      'consent',
      'storage',
      'privacySignals',
      'sampleRate',
      'sessionTimeout',
      'flushInterval',
      'exclude',
      'vitals',
      'errors',
      'clicks',
      'engagement',
      'outbound',
      'downloads',
      'scrub',
      'scrubParams',
      'includeLocal',
      'debug',
    ]) {
      expect(names).toContain(key);
      expect(code).toContain(`'${key}'`);
    }
  });

  it('enables fields only on conditions over fields that exist, with values they can take', () => {
    for (const param of params) {
      for (const condition of param.enablingConditions ?? []) {
        const target = fields.find((field) => field.name == condition.paramName);
        expect(target, `${param.name} depends on ${condition.paramName}`).toBeDefined();
        const values = (target!.radioItems ?? target!.selectItems)?.map((item) => item.value);
        if (values) expect(values).toContain(condition.paramValue);
      }
    }
  });

  it('offers the script’s own choices in its select fields, with the script’s defaults', () => {
    const choices = (name: string) => fields.find((field) => field.name == name)!;
    expect(choices('spa').selectItems!.map((item) => item.value)).toEqual([
      'history',
      'hash',
      'off',
    ]);
    expect(choices('consent').selectItems!.map((item) => item.value)).toEqual([
      'implied',
      'required',
    ]);
    expect(choices('storage').selectItems!.map((item) => item.value)).toEqual(['local', 'none']);
    expect(choices('privacySignals').selectItems!.map((item) => item.value)).toEqual([
      'respect',
      'ignore',
    ]);
    expect(
      [choices('spa'), choices('consent'), choices('autoPageview'), choices('outbound')].map(
        (field) => field.defaultValue,
      ),
    ).toEqual(['history', 'implied', true, false]);
  });

  it('asks only for the permissions it uses: the tracklet globals, the script, logging in preview', () => {
    const permissions = parsePermissions(sections.WEB_PERMISSIONS);
    expect([...permissions.globals.keys()]).toEqual(['tracklet', 'tracklet.q', 'tracklet.version']);
    expect(permissions.globals.get('tracklet.version')).toEqual({
      read: true,
      write: false,
      execute: false,
    });
    expect(permissions.logging).toBe('debug');
    expect(permissions.injectScript.every((pattern) => pattern.startsWith('https://'))).toBe(true);
  });

  it('requires only APIs the harness provides (so every one is exercised here)', () => {
    const required = [...code.matchAll(/require\('(\w+)'\)/g)].map((match) => match[1]).sort();
    expect(required).toEqual([
      'callInWindow',
      'copyFromWindow',
      'createArgumentsQueue',
      'getType',
      'injectScript',
      'logToConsole',
      'makeNumber',
      'makeTableMap',
    ]);
  });
});

describe('the harness', () => {
  const template = { code, permissions: parsePermissions(sections.WEB_PERMISSIONS) };
  const { setup } = parseTests(sections.TESTS);
  const data =
    "{ tagType: 'init', scriptUrl: 'https://cdn.example.com/tracklet.js', " +
    "endpoint: 'https://relay.example.com/collect', site: 'shop' }";

  it('fails a scenario whose assertion does not hold, and one that asserts nothing', () => {
    const wrong = runScenario(template, setup, {
      name: 'wrong',
      code: `record(); runCode(${data}); assertThat(calls).isEqualTo([]);`,
    });
    expect(wrong.error).toMatch(/expected \[\["init"/);
    const empty = runScenario(template, setup, { name: 'empty', code: `runCode(${data});` });
    expect(empty.error).toBe('the scenario asserts nothing');
  });

  it('throws where GTM would: a script or a global outside the permissions', () => {
    const narrow = {
      ...template,
      permissions: { ...template.permissions, injectScript: ['https://cdn.example.com/tracklet/'] },
    };
    const outside = runScenario(narrow, setup, {
      name: 'outside',
      code: `runCode(${data}); assertApi('gtmOnSuccess').wasCalled();`,
    });
    expect(outside.error).toMatch(
      /inject_script does not allow https:\/\/cdn.example.com\/tracklet.js/,
    );
    const noQueue = {
      ...template,
      permissions: {
        ...template.permissions,
        globals: new Map([...template.permissions.globals].filter(([key]) => key != 'tracklet.q')),
      },
    };
    const denied = runScenario(noQueue, setup, {
      name: 'denied',
      code: `runCode(${data}); assertApi('gtmOnSuccess').wasCalled();`,
    });
    expect(denied.error).toMatch(/access_globals does not allow read of "tracklet.q"/);
  });

  it('gives the template no browser globals', () => {
    const sneaky = { ...template, code: 'window.tracklet = 1;' };
    expect(
      runScenario(sneaky, '', { name: 'sneaky', code: `runCode({}); assertThat(1).isEqualTo(1);` })
        .error,
    ).toMatch(/Cannot set properties of undefined/);
  });

  it.each([
    ['https://*/', 'https://cdn.example.com/tracklet.js', true],
    ['https://*.example.com/', 'https://cdn.example.com/t/tracklet.js', true],
    ['https://cdn.example.com/tracklet/', 'https://cdn.example.com/tracklet/tracklet.js', true],
    ['https://cdn.example.com/tracklet/', 'https://cdn.example.com/other.js', false],
    ['https://*/', 'http://cdn.example.com/tracklet.js', false],
    ['https://*.example.com/', 'https://example.org/tracklet.js', false],
  ])('matches URL pattern %s against %s: %s', (pattern, url, ok) => {
    expect(urlMatches(pattern, url)).toBe(ok);
  });

  it('reads block scalars as GTM writes them: | keeps the last newline, |- does not', () => {
    const parsed = parseTests(
      'scenarios:\n- name: a\n  code: |\n    one\n\n    two\n- name: b\n  code: |-\n    three\nsetup: |-\n  let x = 1;',
    );
    expect(parsed).toEqual({
      scenarios: [
        { name: 'a', code: 'one\n\ntwo\n' },
        { name: 'b', code: 'three' },
      ],
      setup: 'let x = 1;',
    });
    expect(() => parseTests('scenarios:\nsomething else')).toThrow(/not in the shape GTM writes/);
  });

  it('splits a template into its sections', () => {
    expect(parseTemplate('___INFO___\n\n{}\n\n\n___TESTS___\n\nscenarios: []\n')).toEqual({
      INFO: '{}',
      TESTS: 'scenarios: []',
    });
  });
});
