/** The fenced blocks of `language` in `page` under the `## ` heading `heading`, before the next `## ` heading. */
export function blocksUnder(page: string, heading: string, language: string): string[] {
  const start = page.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`no heading ${heading}`);
  const end = page.indexOf('\n## ', start + heading.length + 2);
  const section = page.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);
}

/** The first fenced block of `language` under `heading` (see blocksUnder); throws when there is none. */
export function blockUnder(page: string, heading: string, language: string): string {
  const [first] = blocksUnder(page, heading, language);
  if (first === undefined) throw new Error(`no ${language} block under ${heading}`);
  return first;
}
