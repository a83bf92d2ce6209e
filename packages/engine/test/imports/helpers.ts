import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Import, Layer } from '../../src/parse/types';
import { makeLayer as layerFixture } from '../layer-fixture';

/** A fresh temp dir, deleted when the test ends (read-only dirs in it included). */
export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'nx-stacker-imports-'));
  t.after(() => {
    execFileSync('chmod', ['-R', 'u+rwX', dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Writes files (`content`) and dirs (trailing `/` in the key) with explicit modes. */
export function writeTree(root: string, entries: Record<string, string>, mode = 0o644): void {
  for (const [rel, content] of Object.entries(entries)) {
    const path = join(root, rel);
    if (rel.endsWith('/')) {
      mkdirSync(path, { recursive: true, mode: 0o755 });
      chmodSync(path, 0o755);
      continue;
    }
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    chmodSync(path, mode);
  }
}

/**
 * Every entry below `root` as `<path> <type> <mode> <detail>`, sorted: the content of files,
 * the target of symlinks. Assertions on it state the exact resulting tree.
 */
export function listTree(root: string): string[] {
  const lines: string[] = [];
  const walk = (rel: string): void => {
    const path = join(root, rel);
    const stat = lstatSync(path);
    const mode = (stat.mode & 0o7777).toString(8).padStart(4, '0');
    if (stat.isSymbolicLink()) lines.push(`${rel} link ${readlinkSync(path)}`);
    else if (stat.isFile()) lines.push(`${rel} file ${mode} ${readable(path)}`);
    else {
      lines.push(`${rel}/ dir ${mode}`);
      for (const name of readdirSync(path)) walk(rel ? `${rel}/${name}` : name);
    }
  };
  for (const name of readdirSync(root)) walk(name);
  return lines.sort();
}

// A file's text, or `<unreadable>` for a mode that denies the (non-root) test its content.
function readable(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '<unreadable>';
  }
}

/** A layer with only what the imports step reads filled in meaningfully. */
export function makeLayer(opts: {
  imports: Import[];
  name?: string;
  file?: string;
  legacyImport?: boolean;
}): Layer {
  return layerFixture(opts);
}
