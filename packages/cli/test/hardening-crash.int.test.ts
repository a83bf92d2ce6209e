/**
 * Crash safety: the CLI is killed with SIGKILL at random moments of a build (while a base
 * layer is extracted, a container runs, a layer is packed, index.json is updated), round
 * after round on the same dirs. After every kill the OCI layout still reads with umoci and
 * skopeo, nothing stays mounted in any mount namespace and no process of the build
 * survives; at the end a build succeeds with the digests of a build never interrupted.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { OciLayout } from '../../engine/src/oci/layout';
import type { ImageConfig, ImageManifest } from '../../engine/src/oci/types';
import { packLayer } from '../../engine/src/pack/pack-layer';
import {
  mountsAnywhere,
  processesIn,
  settled,
  tempLeftovers,
} from '../../engine/test/hardening/leftovers';
import {
  busyboxLayout,
  requireRoot,
  runCli,
  tagDigest,
  tempDir,
  umociUnpack,
  writeFiles,
} from '../../engine/test/helpers';

const cliBin = join(__dirname, '../bin/nx-stacker.js');
const ROUNDS = 24;
const TAGS = ['l1', 'l2', 'l3'];

/**
 * The busybox image with a second layer of 3000 small files, so that extracting the base
 * takes long enough to be interrupted.
 */
async function bulkyBase(dir: string): Promise<string> {
  const oci = join(dir, 'oci');
  execFileSync('cp', ['-a', await busyboxLayout(), oci]);
  const layout = await OciLayout.open(oci, { create: false });
  const busybox = await layout.readJson<ImageManifest>(layout.resolveTag('busybox')!);
  const config = await layout.readJson<ImageConfig>(busybox.config);

  const tree = join(dir, 'tree');
  for (let d = 0; d < 30; d++) {
    mkdirSync(join(tree, 'usr/share/bulk', `d${d}`), { recursive: true });
    for (let f = 0; f < 100; f++) {
      writeFileSync(join(tree, 'usr/share/bulk', `d${d}`, `f${f}`), `file ${d}/${f}\n`.repeat(20));
    }
  }
  const bulk = await packLayer({ dir: tree, layout, xattrs: new Map(), sourceDateEpoch: 0 });
  const manifest = await layout.writeImage({
    manifest: { ...busybox, layers: [...busybox.layers, bulk.descriptor] },
    config: {
      ...config,
      rootfs: { type: 'layers', diff_ids: [...config.rootfs.diff_ids, bulk.diffId] },
    },
  });
  await layout.updateTags([{ name: 'bulk', descriptor: manifest }]);
  return oci;
}

/** Three layers: a few MB of (deterministic) data to pack, then two small layers. */
function project(dir: string, base: string): void {
  writeFiles(dir, {
    'stacker.yaml': `
l1:
  from:
    type: oci
    url: ${base}:bulk
  run: |
    mkdir -p /data
    seq 1 400000 > /data/big
    for i in $(seq 1 200); do echo $i > /data/f$i; done
l2:
  from:
    type: built
    tag: l1
  run: cp /data/big /data/big2; echo two > /two
l3:
  from:
    type: built
    tag: l2
  run: echo three > /three
`,
  });
}

/** Starts a build and kills it with SIGKILL after `delay` ms (if still running). */
async function killedBuild(dir: string, delay: number): Promise<{ killed: boolean; log: string }> {
  const child = spawn(process.execPath, [cliBin, 'build', '--no-cache'], {
    cwd: dir,
    env: { ...process.env, SOURCE_DATE_EPOCH: '1700000000' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (c) => {
    log += c;
  });
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  const timer = setTimeout(() => child.kill('SIGKILL'), delay);
  const code = await closed;
  clearTimeout(timer);
  return { killed: code === null, log };
}

/** The tags of the layout and, for each, that skopeo and umoci can read it. */
function checkLayoutReadable(oci: string): string[] {
  if (!existsSync(join(oci, 'index.json'))) return [];
  const listed = execFileSync('umoci', ['ls', '--layout', oci], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
  for (const tag of listed) {
    execFileSync('skopeo', ['inspect', '--raw', `oci:${oci}:${tag}`], { stdio: 'pipe' });
    execFileSync('umoci', ['stat', '--image', `${oci}:${tag}`], { stdio: 'pipe' });
  }
  return listed.sort();
}

/** A deterministic PRNG (mulberry32), so a failing round can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), a | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

test(`${ROUNDS} builds killed at random points: readable layout, nothing running`, async (t) => {
  if (!requireRoot(t)) return;
  const base = await bulkyBase(tempDir(t, 'nx-stacker-crash-base-'));

  // The reference: an uninterrupted build, timed to know where to kill.
  const clean = tempDir(t, 'nx-stacker-crash-clean-');
  project(clean, base);
  const started = Date.now();
  const ref = runCli(['build'], clean);
  const duration = Date.now() - started;
  assert.equal(ref.status, 0, ref.stderr);
  const expected = Object.fromEntries(TAGS.map((tag) => [tag, tagDigest(join(clean, 'oci'), tag)]));

  const dir = tempDir(t, 'nx-stacker-crash-');
  project(dir, base);
  const oci = join(dir, 'oci');
  const seed = Number(process.env.CRASH_SEED ?? Date.now() % 100_000);
  const random = seeded(seed);
  t.diagnostic(`seed ${seed} (CRASH_SEED=${seed} replays), uninterrupted build ${duration} ms`);
  const killedAt: string[] = [];

  for (let round = 0; round < ROUNDS; round++) {
    // Every third round starts without extracted layers, so extraction gets interrupted too.
    if (round % 3 === 0) rmSync(join(dir, 'roots'), { recursive: true, force: true });
    const delay = Math.floor(random() * duration);
    const { killed, log } = await killedBuild(dir, delay);
    const last = log.trim().split('\n').pop() ?? '';
    killedAt.push(`${delay}ms${killed ? '' : ' (finished)'}: ${last}`);
    const where = `round ${round} (seed ${seed}, killed after ${delay} ms, log: ${last})`;

    assert.deepEqual(await settled(() => processesIn(dir)), [], `${where}: processes left`);
    assert.deepEqual(await settled(() => mountsAnywhere(dir)), [], `${where}: mounts left`);
    const tags = checkLayoutReadable(oci);
    for (const tag of tags) {
      assert.ok(TAGS.includes(tag), `${where}: unexpected tag ${tag}`);
    }
  }
  t.diagnostic(`killed at:\n${killedAt.join('\n')}`);

  // The next build succeeds and gives what the uninterrupted build gave.
  const after = runCli(['build'], dir);
  assert.equal(after.status, 0, after.stderr);
  for (const tag of TAGS) assert.equal(tagDigest(oci, tag), expected[tag], tag);
  const full = runCli(['build', '--no-cache'], dir);
  assert.equal(full.status, 0, full.stderr);
  for (const tag of TAGS) assert.equal(tagDigest(oci, tag), expected[tag], `${tag} (--no-cache)`);
  const rootfs = umociUnpack(t, oci, 'l3');
  assert.ok(existsSync(join(rootfs, 'three')) && existsSync(join(rootfs, 'data/big2')));

  // Killed writers' temp files are cleaned up by the builds that followed.
  assert.deepEqual(tempLeftovers(dir), []);
  assert.deepEqual(
    readdirSync(join(dir, 'roots')).filter((n) => n.endsWith('.lock')),
    [],
    'no lock file left',
  );
  assert.deepEqual(readdirSync(join(dir, '.stacker', 'builds')), [], 'no build marked running');
});
