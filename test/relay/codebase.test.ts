/**
 * The shape of src/ that keeps it readable: no function body over 60 lines (a factory's nested
 * functions counted on their own), no import cycle (type-only imports included), and a core that
 * imports no capture; and no line over 120 columns in any tracked source file.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const src = resolve(import.meta.dirname, '..', '..', 'src');
const files = readdirSync(src, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.ts'))
  .map((file) => join(src, file));
const parse = (file: string) =>
  ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
const name = (file: string) => relative(src, file);

/** Lines of a function's body, less the lines of the functions nested in it. */
const ownLines = (source: ts.SourceFile, body: ts.Node) => {
  const line = (position: number) => source.getLineAndCharacterOfPosition(position).line;
  let nested = 0;
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      nested += line(node.getEnd()) - line(node.getStart()) + 1;
    } else ts.forEachChild(node, visit);
  };
  ts.forEachChild(body, visit);
  return line(body.getEnd()) - line(body.getStart()) - 1 - nested;
};

/** The files of src/ that a file imports or re-exports from, type-only imports included. */
const importsOf = (file: string) => {
  const found: string[] = [];
  parse(file).forEachChild((node) => {
    if (!(ts.isImportDeclaration(node) || ts.isExportDeclaration(node))) return;
    const specifier = node.moduleSpecifier;
    if (!specifier || !ts.isStringLiteral(specifier) || !specifier.text.startsWith('.')) return;
    const base = resolve(dirname(file), specifier.text).replace(/\.js$/, '');
    const target = [base + '.ts', join(base, 'index.ts')].find((candidate) =>
      existsSync(candidate),
    );
    if (target) found.push(target);
  });
  return found;
};

describe('the code in src/', () => {
  it('has no function body over 60 lines', () => {
    const long: string[] = [];
    for (const file of files) {
      const source = parse(file);
      const visit = (node: ts.Node): void => {
        if (ts.isFunctionLike(node) && 'body' in node && node.body) {
          const lines = ownLines(source, node.body);
          const at = source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
          if (lines > 60) long.push(`${name(file)}:${at} (${lines} lines)`);
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
    }
    expect(files.length).toBeGreaterThan(40);
    expect(long).toEqual([]);
  });

  it('has no import cycle, and the core imports no capture', () => {
    const graph = new Map(files.map((file) => [file, importsOf(file)]));
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const path: string[] = [];
    const walk = (file: string): void => {
      state.set(file, 'open');
      path.push(file);
      for (const next of graph.get(file) || []) {
        if (state.get(next) == 'open')
          cycles.push(path.slice(path.indexOf(next)).map(name).join(' -> '));
        else if (!state.has(next)) walk(next);
      }
      path.pop();
      state.set(file, 'done');
    };
    for (const file of files) if (!state.has(file)) walk(file);
    expect(cycles).toEqual([]);
    const coreOnCaptures = [...graph]
      .filter(
        ([file, imports]) =>
          name(file).startsWith('core/') && imports.some((i) => name(i).startsWith('capture/')),
      )
      .map(([file]) => name(file));
    expect(coreOnCaptures).toEqual([]);
  });
});

describe('the code of the whole repository', () => {
  it('has no line over 120 columns', () => {
    const root = resolve(import.meta.dirname, '..', '..');
    const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' })
      .split('\0')
      .filter((file) => /\.(ts|tsx|mjs|js)$/.test(file))
      .filter((file) => !/(^|\/)(node_modules|dist)\//.test(file))
      .filter((file) => existsSync(join(root, file)));
    const long: string[] = [];
    for (const file of tracked) {
      readFileSync(join(root, file), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          // Columns are characters (code points), not UTF-16 units.
          if ([...line].length > 120) long.push(`${file}:${i + 1}`);
        });
    }
    expect(tracked.length).toBeGreaterThan(100);
    expect(long).toEqual([]);
  });
});
