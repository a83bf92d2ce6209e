import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { REPO_ROOT } from '../../e2e/fixtures/nx-workspace';

/**
 * Compiles generators/ to generators/dist (incremental: quick when up to date), for the
 * suites that run the generators through the real Nx CLI, which loads the compiled files.
 */
export function buildGenerators(): void {
  const tsc = require.resolve('typescript/bin/tsc', { paths: [REPO_ROOT] });
  const result = spawnSync(process.execPath, [tsc, '-b', 'generators'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  assert.equal(result.status, 0, `tsc -b generators failed:\n${result.stdout}${result.stderr}`);
}
