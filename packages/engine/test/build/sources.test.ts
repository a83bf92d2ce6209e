import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolveDirs } from '../../src/build/options';
import { loadSources } from '../../src/build/sources';
import { StackerError } from '../../src/errors';
import { memoryLogger } from '../../src/log';
import { projectDir } from '../helpers';

const yaml = `
a:
  from:
    type: scratch
  labels:
    work: "\${{STACKER_WORK_DIR}}"
    oci: "\${{STACKER_OCI_DIR}}"
`;

test('STACKER_WORK_DIR is the --work-dir, absolute, and empty without it', (t) => {
  const dir = projectDir(t, { 'stacker.yaml': yaml });
  const load = (workDir?: string) => {
    const opts = { stackerFiles: ['stacker.yaml'], cwd: dir, workDir, log: memoryLogger() };
    const { files } = loadSources(opts, resolveDirs(opts));
    return files.get(join(dir, 'stacker.yaml'))?.layers[0]?.labels;
  };
  assert.deepEqual(load('w'), { work: join(dir, 'w'), oci: join(dir, 'oci') });
  assert.deepEqual(load(), { work: '', oci: join(dir, 'oci') });
});

test('a stacker file given as a url is refused as such, not looked up as a local path', (t) => {
  const dir = projectDir(t, {});
  const opts = {
    stackerFiles: ['https://example.com/stacker.yaml'],
    cwd: dir,
    log: memoryLogger(),
  };
  assert.throws(
    () => loadSources(opts, resolveDirs(opts)),
    (err: StackerError) =>
      err instanceof StackerError &&
      /stacker files given as urls are not supported: https:\/\/example\.com\/stacker\.yaml/.test(
        err.message,
      ) &&
      /download the file/.test(err.hint ?? ''),
  );
});
