import type { Tree } from '@nx/devkit';

/** The comment above the entries init appends, so a reader knows where they came from. */
const HEADER = '# nx-stacker: engine state and built images';

/**
 * Appends each of `entries` that the workspace's .gitignore does not already cover, creating
 * the file when there is none. Returns the entries added.
 *
 * "Covered" is judged on plain patterns only: the entry itself or one of its parent
 * directories, with or without a leading or trailing `/` (`dist` covers `dist/stacker/`).
 * Negations and wildcards are not interpreted, so a `dist/*` rule still gets `dist/stacker/`
 * added; that is redundant, never wrong.
 */
export function addGitignoreEntries(tree: Tree, entries: readonly string[]): string[] {
  const text = tree.exists('.gitignore') ? (tree.read('.gitignore', 'utf-8') ?? '') : '';
  const existing = new Set(text.split(/\r?\n/).map(normalisePattern));

  const missing = entries.filter((entry) => !parentsOf(entry).some((p) => existing.has(p)));
  if (missing.length === 0) return [];

  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  let prefix = text;
  if (prefix.length > 0 && !prefix.endsWith('\n')) prefix += eol;
  if (prefix.trim().length > 0) prefix += eol;
  tree.write('.gitignore', prefix + [HEADER, ...missing].join(eol) + eol);
  return missing;
}

/** `/dist/stacker/` -> `dist/stacker`; comments and blank lines become ''. */
function normalisePattern(line: string): string {
  const pattern = line.trim();
  if (pattern.startsWith('#')) return '';
  return pattern.replace(/^\/+/, '').replace(/\/+$/, '');
}

/** `dist/stacker/` -> [`dist/stacker`, `dist`]: the entry and every directory above it. */
function parentsOf(entry: string): string[] {
  const segments = normalisePattern(entry).split('/');
  return segments.map((_, i) => segments.slice(0, segments.length - i).join('/'));
}
