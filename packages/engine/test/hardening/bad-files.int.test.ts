/**
 * Stacker files that parse and plan but cannot be built: missing imports, bases and bind
 * sources, a wrong import hash, a corrupt or hostile base image. Found while building, so
 * they need root. Each gives a StackerError naming the file and layer (and the import or
 * directive's line when written), tags nothing, and leaves no mount, process or temp file.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { OciLayout } from '../../src/oci/layout';
import { MEDIA_TYPE_LAYER_TAR_GZIP } from '../../src/oci/types';
import {
  buildIn,
  busyboxLayout,
  errorOf,
  requireRoot,
  tagDigest,
  tempDir,
  writeFiles,
} from '../helpers';
import { mountsAnywhere, processesIn, settled, tempLeftovers } from './leftovers';
import { rawTar } from './raw-tar';

/** An OCI layout with one image `bad` whose only layer is `blob` (gzipped tar). */
async function layoutWithLayer(dir: string, blob: Buffer, digestOverride?: string) {
  const layout = await OciLayout.open(dir, { create: true });
  const layer = await layout.writeBlob(blob, MEDIA_TYPE_LAYER_TAR_GZIP);
  const manifest = await layout.writeImage({
    manifest: {
      schemaVersion: 2,
      config: { mediaType: '', digest: '', size: 0 },
      layers: [{ ...layer, digest: digestOverride ?? layer.digest }],
    },
    config: {
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [layer.digest] },
    },
  });
  await layout.updateTags([{ name: 'bad', descriptor: manifest }]);
  return layout;
}

interface Case {
  name: string;
  /** The stacker file; `BASE` is replaced by the busybox layout's path. */
  yaml: string;
  setup?: (dir: string) => Promise<void> | void;
  message: RegExp;
  line?: number;
  import?: RegExp;
}

const cases: Case[] = [
  {
    name: 'a missing import file',
    yaml: 'app:\n  from:\n    type: oci\n    url: BASE:busybox\n  imports:\n    - missing.txt\n',
    message: /missing\.txt/,
    line: 6,
    import: /\/missing\.txt$/,
  },
  {
    name: 'a missing import directory',
    yaml: 'app:\n  from:\n    type: oci\n    url: BASE:busybox\n  imports:\n    - gone/\n',
    message: /gone/,
    line: 6,
  },
  {
    name: 'an import whose content does not match its hash',
    yaml:
      'app:\n  from:\n    type: oci\n    url: BASE:busybox\n  imports:\n' +
      `    - path: data.txt\n      hash: ${'ab'.repeat(32)}\n`,
    setup: (dir) => writeFileSync(join(dir, 'data.txt'), 'data'),
    message: /requested hash of .*data\.txt import is different than the actual hash/,
    line: 6,
  },
  {
    name: 'a base layout that does not exist',
    yaml: 'app:\n  from:\n    type: oci\n    url: ./nowhere:busybox\n  run: "true"\n',
    message: /nowhere/,
  },
  {
    name: 'a tag missing from the base layout',
    yaml: 'app:\n  from:\n    type: oci\n    url: BASE:no-such-tag\n  run: "true"\n',
    message: /no-such-tag/,
  },
  {
    name: 'a missing tar base',
    yaml: 'app:\n  from:\n    type: tar\n    url: ./missing.tar.gz\n  run: "true"\n',
    message: /missing\.tar\.gz/,
  },
  {
    name: 'a bind whose source does not exist',
    yaml:
      'app:\n  from:\n    type: oci\n    url: BASE:busybox\n  binds:\n' +
      '    - /nonexistent/nx-stacker-src -> /mnt\n  run: "true"\n',
    message: /bind mount source "\/nonexistent\/nx-stacker-src" does not exist/,
    line: 6,
  },
  {
    name: 'a base image with a hostile layer',
    yaml: 'app:\n  from:\n    type: oci\n    url: ./bad-oci:bad\n  run: "true"\n',
    setup: async (dir) => {
      await layoutWithLayer(join(dir, 'bad-oci'), gzipSync(rawTar([{ name: '../x', data: 'x' }])));
    },
    message: /couldn't extract layer .*name has a "\.\." component/,
  },
  {
    name: 'a base image whose layer does not match its digest',
    yaml: 'app:\n  from:\n    type: oci\n    url: ./bad-oci:bad\n  run: "true"\n',
    setup: async (dir) => {
      const blob = gzipSync(rawTar([{ name: 'f', data: 'x' }]));
      const layout = await layoutWithLayer(join(dir, 'bad-oci'), blob);
      // Replace the blob's content behind the layout's back.
      const [layer] = (
        await layout.readJson<{ layers: { digest: string }[] }>(layout.resolveTag('bad')!)
      ).layers;
      writeFileSync(layout.blobPath(layer!.digest), gzipSync(rawTar([{ name: 'g', data: 'y' }])));
    },
    message: /does not match its digest/,
  },
];

for (const c of cases) {
  test(`build: ${c.name} is a located error and leaves nothing behind`, async (t) => {
    if (!requireRoot(t)) return;
    const dir = tempDir(t);
    const base = await busyboxLayout();
    mkdirSync(join(dir, 'base'));
    cpSync(base, join(dir, 'base', 'oci'), { recursive: true });
    writeFiles(dir, { 'stacker.yaml': c.yaml.replace('BASE', join(dir, 'base', 'oci')) });
    await c.setup?.(dir);

    const err = await errorOf(buildIn(dir));
    assert.match(err.message, c.message);
    assert.equal(err.where.file, join(dir, 'stacker.yaml'), err.format());
    assert.equal(err.where.layer, 'app', err.format());
    if (c.line !== undefined) assert.equal(err.where.line, c.line, err.format());
    if (c.import !== undefined) assert.match(err.where.import ?? '', c.import, err.format());

    assert.equal(tagDigest(join(dir, 'oci'), 'app'), undefined, 'nothing tagged');
    assert.deepEqual(await settled(() => mountsAnywhere(dir)), []);
    assert.deepEqual(await settled(() => processesIn(dir)), []);
    assert.deepEqual(tempLeftovers(dir), []);
  });
}
