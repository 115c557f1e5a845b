/**
 * The README and the pages of docs/ hold together: every relative link reaches a file, every
 * `#anchor` a heading of its page (as GitHub names them), every page is in the index, and the
 * layout maps name only folders and files that exist.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const docPages = (await readdir(join(root, 'docs'))).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`);
const pages = ['README.md', ...docPages];
const text = Object.fromEntries(await Promise.all(pages.map(async (page) => [page, await readFile(join(root, page), 'utf8')] as const)));

/** The page without its fenced code blocks, whose brackets and `#` lines are not Markdown. */
function prose(markdown: string): string {
  return markdown.replace(/^```[^\n]*\n[\s\S]*?^```[ \t]*$/gm, '');
}

/** Link targets of a page's prose: `[text](target)` and `![alt](target)`, inline code left out. */
function linkTargets(markdown: string): string[] {
  const withoutCode = prose(markdown).replace(/`[^`\n]*`/g, '');
  return [...withoutCode.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
}

/**
 * The anchors GitHub gives a page's headings: the heading's text, lower-cased, without
 * punctuation other than `-` and `_`, spaces turned into `-`; a repeated one gets `-1`, `-2`, ….
 */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const [, heading] of prose(markdown).matchAll(/^#{1,6} +(.+?) *#* *$/gm)) {
    const rendered = heading!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/[`*]/g, '');
    const slug = rendered.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  for (const [, id] of markdown.matchAll(/<a (?:id|name)="([^"]+)"/g)) anchors.add(id!);
  return anchors;
}

describe('the README and docs/', () => {
  it('are found: the README and at least the pages the README links to', () => {
    expect(docPages).toEqual(expect.arrayContaining(['docs/README.md', 'docs/configuration.md', 'docs/library.md', 'docs/cli.md']));
  });

  it.each(pages)('%s: every relative link reaches a file, every #anchor a heading', (page) => {
    const broken: string[] = [];
    const targets = linkTargets(text[page]!);
    for (const target of targets) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:: not ours to check
      const [path, anchor] = target.split('#', 2) as [string, string | undefined];
      const file = path === '' ? page : normalize(join(dirname(page), decodeURIComponent(path)));
      if (relative(root, join(root, file)).startsWith('..') || !existsSync(join(root, file))) {
        broken.push(`${target}: no such file (${file})`);
        continue;
      }
      if (anchor === undefined) continue;
      if (!file.endsWith('.md')) {
        broken.push(`${target}: an anchor into a file that is not Markdown`);
        continue;
      }
      const linked = text[file];
      if (linked === undefined) broken.push(`${target}: anchors are checked only in README.md and docs/*.md`);
      else if (!anchorsOf(linked).has(decodeURIComponent(anchor))) broken.push(`${target}: ${file} has no heading #${anchor}`);
    }
    expect(broken).toEqual([]);
  });

  it('docs/README.md indexes every page of docs/, and the README links to each', () => {
    const indexed = new Set(linkTargets(text['docs/README.md']!).map((target) => `docs/${target.split('#')[0]}`));
    const fromReadme = new Set(linkTargets(text['README.md']!).map((target) => target.split('#')[0]));
    for (const page of docPages.filter((p) => p !== 'docs/README.md')) {
      expect(indexed, `docs/README.md links to ${page}`).toContain(page);
      expect(fromReadme, `README.md links to ${page}`).toContain(page);
    }
  });

  it.each([
    ['README.md', '## Layout'],
    ['docs/architecture.md', '## The layout'],
  ])('%s: the layout map under "%s" names only folders and files that exist', (page, heading) => {
    const section = text[page]!.slice(text[page]!.indexOf(`\n${heading}\n`));
    const map = /```\n([\s\S]*?)```/.exec(section)?.[1];
    expect(map, `a code block under ${heading}`).toBeDefined();
    const named = layoutEntries(map!);
    expect(named.length).toBeGreaterThan(8);
    expect(named.filter((path) => !existsSync(join(root, path)))).toEqual([]);
  });
});

/**
 * The paths a layout map names: each line is `<indent><name> [<name>...]  <description>`, a name
 * ending in `/` (a folder, parent of the lines indented below it) or holding a dot (a file).
 * Lines that carry on a description have no such names and are skipped.
 */
function layoutEntries(map: string): string[] {
  const paths: string[] = [];
  const folders: { indent: number; path: string }[] = [];
  for (const line of map.split('\n')) {
    const indent = line.length - line.trimStart().length;
    const names = line.trim().split(/ {2,}/)[0]!.split(' ');
    if (names[0] === '' || !names.every((name) => /^[\w.-]+\/?$/.test(name) && (name.endsWith('/') || name.includes('.')))) continue;
    while (folders.length > 0 && folders.at(-1)!.indent >= indent) folders.pop();
    const parent = folders.at(-1)?.path ?? '';
    for (const name of names) paths.push(`${parent}${name}`);
    if (names.length === 1 && names[0]!.endsWith('/')) folders.push({ indent, path: `${parent}${names[0]}` });
  }
  return paths;
}
