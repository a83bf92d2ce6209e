#!/usr/bin/env node
// Runs the test suites with node:test on the TypeScript sources (through tsx).
//   unit         packages/*/test/**/*.test.ts without .int. in the name: no root, no LXC
//   integration  packages/*/test/**/*.int.test.ts and e2e/**/*.test.ts: real builds as root
//   all          both
// Extra arguments are passed to node (for example --test-name-pattern=...).
import { spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [suite = 'all', ...extra] = process.argv.slice(2);

const all = globSync('packages/*/test/**/*.test.ts', { cwd: root }).sort();
const unit = all.filter((f) => !f.includes('.int.'));
const integration = [
  ...all.filter((f) => f.includes('.int.')),
  ...globSync('e2e/**/*.test.ts', { cwd: root }).sort(),
];
const files = { unit, integration, all: [...unit, ...integration] }[suite];
if (!files) {
  console.error(`unknown suite ${suite}: use unit, integration or all`);
  process.exit(2);
}

const result = spawnSync(
  process.execPath,
  [
    '--conditions=development',
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=1',
    ...extra,
    ...files,
  ],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);
