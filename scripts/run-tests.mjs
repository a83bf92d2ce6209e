#!/usr/bin/env node
// Runs the test suites with node:test on the TypeScript sources (through tsx).
//   unit         packages/*/test/** and generators/test/** *.test.ts without .int. in the
//                name: no root, no LXC
//   integration  packages/*/test/**/*.int.test.ts and e2e/**/*.test.ts: real builds as root
//   all          both
// Extra arguments are passed to node (for example --test-name-pattern=...).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [suite = 'all', ...extra] = process.argv.slice(2);

/** Files under `dir` (relative to the repo root) whose names end with `.test.ts`. */
function testFiles(dir) {
  let entries;
  try {
    entries = readdirSync(join(root, dir), { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : testFiles(path);
    return e.name.endsWith('.test.ts') ? [path] : [];
  });
}

const packages = readdirSync(join(root, 'packages'));
const all = [
  ...packages.flatMap((p) => testFiles(`packages/${p}/test`)),
  ...testFiles('generators/test'),
].sort();
const unit = all.filter((f) => !f.includes('.int.'));
const integration = [...all.filter((f) => f.includes('.int.')), ...testFiles('e2e').sort()];
const files = { unit, integration, all: [...unit, ...integration] }[suite];
if (!files) {
  console.error(`unknown suite ${suite}: use unit, integration or all`);
  process.exit(2);
}

const result = spawnSync(
  process.execPath,
  [
    '--conditions=nx-stacker-source',
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=1',
    // A hung test fails after 30 minutes instead of holding CI until its limit.
    '--test-timeout=1800000',
    ...extra,
    ...files,
  ],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
