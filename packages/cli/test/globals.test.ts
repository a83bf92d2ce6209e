import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { projectDir, runCli } from '../../engine/test/helpers';
import { resolveDirs } from '../src/globals';

const layer = 'a:\n  from:\n    type: scratch\n';

test('the config file sets the storage dirs; flags win; --work-dir prefixes the defaults', (t) => {
  const dir = projectDir(t, { 'conf.yaml': 'oci_dir: /srv/oci\nunknown_key: 1\n' });
  const config = join(dir, 'conf.yaml');
  assert.deepEqual(resolveDirs({ config }, dir), {
    stackerDir: join(dir, '.stacker'),
    ociDir: '/srv/oci',
    rootsDir: join(dir, 'roots'),
    workDir: undefined,
  });
  assert.equal(resolveDirs({ config, 'oci-dir': 'o' }, dir).ociDir, join(dir, 'o'));
  assert.deepEqual(resolveDirs({ config, 'work-dir': 'w' }, dir), {
    stackerDir: join(dir, 'w/.stacker'),
    ociDir: '/srv/oci',
    rootsDir: join(dir, 'w/roots'),
    workDir: join(dir, 'w'),
  });
});

test('a config file that is not a map of paths is refused with its line', (t) => {
  const dir = projectDir(t, {
    'stacker.yaml': layer,
    'list.yaml': '- a\n',
    'type.yaml': 'work_dir: /w\noci_dir: [1]\n',
    'syntax.yaml': 'a: [\n',
  });
  const cases = [
    ['list.yaml', /^error: list\.yaml:1:1: config file is not a map$/m],
    ['type.yaml', /^error: type\.yaml:2:10: config file: 'oci_dir' must be a path$/m],
    ['syntax.yaml', /^error: syntax\.yaml:2:1: couldn't parse config file: [^\n]*[^:]$/m],
  ] as const;
  for (const [file, message] of cases) {
    const r = runCli(['--config', file, 'build'], dir);
    assert.equal(r.status, 1, file);
    assert.match(r.stderr, message);
    assert.match(r.stderr, /hint: conf\.yaml is a map with the keys work_dir/);
    assert.doesNotMatch(r.stderr, /looks like a bug|\n\s+at /);
  }
});

test('a storage dir that is a file, or a log file in a missing dir, is named', (t) => {
  const dir = projectDir(t, { 'stacker.yaml': layer, F: '' });
  for (const flag of ['--stacker-dir', '--roots-dir', '--oci-dir']) {
    const r = runCli([flag, 'F', 'build'], dir);
    assert.equal(r.status, 1, flag);
    assert.match(r.stderr, new RegExp(`${flag.slice(2)}=".*/F" exists but is not a directory`));
    assert.doesNotMatch(r.stderr, /looks like a bug/);
  }
  const log = runCli(['--log-file', '/nonexistent-dir/x.log', 'build'], dir);
  assert.equal(log.status, 1);
  assert.match(
    log.stderr,
    /couldn't create --log-file \/nonexistent-dir\/x\.log: no such directory/,
  );
});
