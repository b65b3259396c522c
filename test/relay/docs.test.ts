/**
 * The documentation holds together: README stays short and links every page of docs/, and every
 * relative link of every Markdown file reaches a file (and, with `#…`, a heading of it).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const read = (file: string) => readFileSync(join(root, file), 'utf8');
const withoutCode = (text: string) => text.replace(/```[\s\S]*?```/g, '');

/** Heading anchors as the Markdown renderers of code hosts make them (duplicates get -1, -2…). */
const anchorsOf = (file: string) => {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, title] of withoutCode(read(file)).matchAll(/^#{1,6} (.*)$/gm)) {
    const slug = title
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/`/g, '')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}_\- ]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(slug) || 0;
    seen.set(slug, n + 1);
    anchors.add(n ? `${slug}-${n}` : slug);
  }
  return anchors;
};

const markdown = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '*.md'], {
  cwd: root,
  encoding: 'utf8',
})
  .split('\n')
  .filter((file) => file && !file.startsWith('node_modules/') && existsSync(join(root, file)));

describe('the documentation', () => {
  it('keeps the README short and links every page of docs/ from it', () => {
    const readme = read('README.md');
    expect(readme.split('\n').length).toBeLessThanOrEqual(300);
    const pages = readdirSync(join(root, 'docs')).filter((file) => file.endsWith('.md'));
    expect(pages.length).toBeGreaterThan(10);
    const unlinked = pages.filter((page) => !readme.includes(`](docs/${page}`));
    expect(unlinked).toEqual([]);
    expect(readme).toContain('](ARCHITECTURE.md)');
  });

  it('has no relative link to a missing file or heading', () => {
    const broken: string[] = [];
    let checked = 0;
    for (const file of markdown) {
      for (const [, link] of withoutCode(read(file)).matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(link)) continue;
        checked++;
        const [path, anchor] = link.split('#');
        const target = path ? normalize(join(dirname(file), path)) : file;
        if (!existsSync(join(root, target))) broken.push(`${file}: ${link} (no such file)`);
        else if (anchor && target.endsWith('.md') && !anchorsOf(target).has(anchor))
          broken.push(`${file}: ${link} (no such heading)`);
      }
    }
    expect(checked).toBeGreaterThan(100);
    expect(broken).toEqual([]);
  });
});
