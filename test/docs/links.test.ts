import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The README is split into documents that link to each other by relative paths and heading anchors;
 * a moved section or a renamed heading would leave a link that leads nowhere. This reads every
 * relative link (outside code blocks) and checks that its file exists and, for `#anchor` links into
 * Markdown, that the heading exists (GitHub's slugs).
 */
const ROOT = path.join(__dirname, '..', '..');
const DOCUMENTS = [
  'README.md',
  'CONTRIBUTING.md',
  'bench/RESULTS.md',
  ...readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** The document's text without fenced code blocks and inline code, where `](x)` is not a link. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const line of markdown.replace(/^```[\s\S]*?^```/gm, '').split('\n')) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = heading[1]
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    result.add(n === 0 ? base : `${base}-${n}`);
  }
  return result;
}

/** Every relative link of a document: [text](target), without external links. */
function relativeLinks(markdown: string): string[] {
  return [...prose(markdown).matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

describe('links between the documents', () => {
  it('finds the documents and their links (the check below is not vacuous)', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(DOCUMENTS).toContain('docs/operations.md');
    expect(relativeLinks(readme)).toContain('docs/operations.md');
    expect(anchors('# A title\n## What `FaceSign` gets back, in detail\n## A title')).toEqual(
      new Set(['a-title', 'what-facesign-gets-back-in-detail', 'a-title-1']),
    );
  });

  it.each(DOCUMENTS)('every relative link in %s resolves to a file, and every anchor to a heading', (document) => {
    const text = readFileSync(path.join(ROOT, document), 'utf8');
    for (const link of relativeLinks(text)) {
      const [file, anchor] = link.split('#');
      const target = file ? path.join(ROOT, path.dirname(document), decodeURIComponent(file)) : path.join(ROOT, document);
      expect(existsSync(target), `${document}: ${link}`).toBe(true);
      if (anchor && target.endsWith('.md')) expect([...anchors(readFileSync(target, 'utf8'))], `${document}: ${link}`).toContain(anchor);
    }
  });
});
