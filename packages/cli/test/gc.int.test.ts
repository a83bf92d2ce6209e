import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { skopeoManifest } from '../../engine/test/helpers';
import { cli, rootSkip, writeLayeredProject } from './helpers';

/** The `sha256_*` dirs of the roots dir. */
function extracted(dir: string): string[] {
  return readdirSync(join(dir, 'roots'))
    .filter((n) => n.startsWith('sha256_'))
    .sort();
}

describe('nx-stacker gc', { skip: rootSkip() }, () => {
  test('removes extracted layers no image uses and stale snapshots, keeps the rest', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'nx-stacker-gc-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    await writeLayeredProject(dir);
    assert.equal(cli(['build'], dir).status, 0);

    // Change the top layer: its old content stays extracted in the roots dir.
    const file = join(dir, 'stacker.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('echo app > /app', 'echo v2 > /app'));
    assert.equal(cli(['build'], dir).status, 0);
    const before = extracted(dir);
    mkdirSync(join(dir, 'roots/temp-snapshot-app-999999999-abcd/overlay'), { recursive: true });
    mkdirSync(join(dir, `roots/temp-snapshot-app-${process.pid}-abcd`), { recursive: true });

    const r = cli(['gc'], dir);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /gc: removed \d+ blobs .* 1 extracted layers and 1 stale snapshots/);

    const needed = new Set(
      ['app', 'base'].flatMap((tag) =>
        skopeoManifest(join(dir, 'oci'), tag).layers.map((l) => l.digest.replace(':', '_')),
      ),
    );
    const after = extracted(dir);
    assert.equal(after.length, before.length - 1, 'the old layer of app is gone');
    for (const n of needed) assert.ok(after.includes(n), `${n} kept`);
    assert.deepEqual(
      readdirSync(join(dir, 'roots')).filter((n) => n.startsWith('temp-snapshot-')),
      [`temp-snapshot-app-${process.pid}-abcd`],
      'a live process keeps its snapshot',
    );

    // Everything still works from what is left.
    const chroot = cli(['chroot', 'app', 'cat', '/app', '/tools'], dir);
    assert.equal(chroot.status, 0, chroot.stderr);
    assert.equal(chroot.stdout, 'v2\ntools\n');
  });

  test('keeps the extracted dir that another layer type links to', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'nx-stacker-gc-types-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    await writeLayeredProject(dir);
    const built = cli(['build', '--layer-type', 'tar', '--layer-type', 'squashfs'], dir);
    assert.equal(built.status, 0, built.stderr);
    const links = extracted(dir).filter((n) => lstatSync(join(dir, 'roots', n)).isSymbolicLink());
    assert.ok(links.length > 0, "squashfs layers are links to the tar layers' dirs");

    // Only the squashfs images are left: no tag and no cache entry names the tar layers.
    for (const tag of ['app', 'base']) {
      execFileSync('umoci', ['rm', '--image', `${join(dir, 'oci')}:${tag}`]);
    }
    rmSync(join(dir, '.stacker/cache'), { recursive: true, force: true });
    const r = cli(['gc'], dir);
    assert.equal(r.status, 0, r.stderr);
    const squashfs = ['app-squashfs', 'base-squashfs'].flatMap((tag) =>
      skopeoManifest(join(dir, 'oci'), tag).layers.map((l) => l.digest.replace(':', '_')),
    );
    for (const name of squashfs) {
      assert.ok(existsSync(join(dir, 'roots', name, 'overlay')), `${name} still resolves`);
    }
    for (const name of extracted(dir)) {
      assert.ok(existsSync(join(dir, 'roots', name)), `${name} is no dangling link`);
    }
  });
});
