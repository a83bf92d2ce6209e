import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../../engine/test/helpers';
import { cliLogger } from '../src/logger';

function logged(t: Parameters<typeof tempDir>[0], opts: { quiet?: boolean; progress?: boolean }) {
  const file = join(tempDir(t), 'log');
  const log = cliLogger({ debug: false, timestamps: false, logFile: file, quiet: false, ...opts });
  log.info('a step');
  log.progress?.('pulling x: 50%');
  log.warn('careful');
  return readFileSync(file, 'utf8');
}

test('download progress lines show by default; --no-progress and -q hide them', (t) => {
  assert.equal(logged(t, {}), 'a step\npulling x: 50%\nwarning: careful\n');
  assert.equal(logged(t, { progress: false }), 'a step\nwarning: careful\n');
  assert.equal(logged(t, { quiet: true }), '');
});
