import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readXattrs } from '../../packages/engine/src/native/xattrs';
import { OciLayout } from '../../packages/engine/src/oci/layout';
import { type PackResult, packLayer } from '../../packages/engine/src/pack/pack-layer';
import { BASE_TAG, type BenchData, SOURCE_DATE_EPOCH } from '../lib/data';
import { check, compare, type Row } from '../lib/table';
import { type Case, mb, measureRounds, sh } from '../lib/timing';

/** The gzip level of the documented fast setting (`gzipLevel: 1`). */
export const FAST_LEVEL = 1;

/**
 * Layer generation: the synthetic change's upper dir -> compressed blob with digest and
 * diff ID, by our packer at the default and the fast gzip level, against `tar | pigz -p2`,
 * `tar | gzip` and `umoci repack` (which also has to find the change: it walks the whole
 * bundle and compares it with its mtree). Then checks that the thread count does not change
 * the output.
 */
export async function packCases(data: BenchData, work: string, runs: number) {
  const { upper } = data.change;
  const out = join(work, 'pack');
  const fresh = () => {
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    sh('sync');
  };
  const results = new Map<number, PackResult>();
  const ours = (level: number): Case => ({
    name: `ours-${level}`,
    prepare: fresh,
    fn: async () => {
      results.set(level, await pack(upper, join(out, 'oci'), level));
    },
  });
  const tar = (compressor: string): Case => ({
    name: compressor,
    prepare: fresh,
    fn: () => void sh(`tar -C ${upper} -cf - . | ${compressor} > ${out}/layer.tar.gz`),
  });
  const umociBundle = join(work, 'umoci');
  const umoci: Case = {
    name: 'umoci',
    prepare: () => prepareUmociBundle(data, umociBundle),
    fn: () => void sh(`umoci repack --image ${umociBundle}/oci:changed ${umociBundle}/bundle`),
  };

  const t = await measureRounds(runs, [
    ours(6),
    tar('pigz -p2 -6'),
    tar('gzip -6'),
    ours(FAST_LEVEL),
    tar(`pigz -p2 -${FAST_LEVEL}`),
    umoci,
  ]);
  const get = (name: string) => t.get(name)!;
  const size = (level: number) => mb(results.get(level)!.descriptor.size);
  const rows: Row[] = [
    compare({
      measurement: `pack ${mb(data.change.bytes)} change, gzip 6 (blob ${size(6)})`,
      ours: get('ours-6'),
      reference: get('pigz -p2 -6'),
      referenceName: 'tar | pigz -p2 -6',
      maxRatio: 1.1,
    }),
    compare({
      measurement: 'pack, gzip 6',
      ours: get('ours-6'),
      reference: get('umoci'),
      referenceName: 'umoci repack',
      maxRatio: 1,
      goal: 'faster',
    }),
    compare({
      measurement: 'pack, gzip 6',
      ours: get('ours-6'),
      reference: get('gzip -6'),
      referenceName: 'tar | gzip -6',
    }),
    compare({
      measurement: `pack, fast setting gzip ${FAST_LEVEL} (blob ${size(FAST_LEVEL)})`,
      ours: get(`ours-${FAST_LEVEL}`),
      reference: get('umoci'),
      referenceName: 'umoci repack',
      maxRatio: 0.5,
      goal: '2x faster',
    }),
    compare({
      measurement: `pack, gzip ${FAST_LEVEL}`,
      ours: get(`ours-${FAST_LEVEL}`),
      reference: get(`pigz -p2 -${FAST_LEVEL}`),
      referenceName: `tar | pigz -p2 -${FAST_LEVEL}`,
    }),
    await determinism(upper, out, results.get(6)!),
  ];
  rmSync(out, { recursive: true, force: true });
  rmSync(umociBundle, { recursive: true, force: true });
  return rows;
}

/** What a build does to turn an upper dir into a layer blob. */
async function pack(upper: string, ociDir: string, level: number, threads?: number) {
  const layout = await OciLayout.open(ociDir, { create: true });
  const xattrs = await readXattrs(upper, { stripOverlay: true });
  return packLayer({
    dir: upper,
    layout,
    xattrs,
    sourceDateEpoch: SOURCE_DATE_EPOCH,
    gzipLevel: level,
    gzipThreads: threads,
  });
}

/** Packs with 1, 2 and 4 threads: the digests must equal the timed run's. */
async function determinism(upper: string, out: string, timed: PackResult): Promise<Row> {
  const digests = new Set([`${timed.descriptor.digest} ${timed.diffId}`]);
  for (const threads of [1, 2, 4]) {
    rmSync(out, { recursive: true, force: true });
    const r = await pack(upper, join(out, `oci-${threads}`), 6, threads);
    digests.add(`${r.descriptor.digest} ${r.diffId}`);
  }
  return check({
    measurement: 'pack output with 1, 2, 4 threads',
    ours: digests.size === 1 ? `identical (${timed.descriptor.digest.slice(0, 19)})` : 'DIFFERS',
    goal: 'same bytes',
    met: digests.size === 1,
  });
}

/**
 * An umoci bundle of the base image with the change applied (new files copied in, deleted
 * paths removed), in a copy of the base layout, ready for `umoci repack`.
 */
function prepareUmociBundle(data: BenchData, dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  sh(`cp -a ${data.ociDir} ${dir}/oci`);
  sh(`umoci unpack --image ${dir}/oci:${BASE_TAG} ${dir}/bundle`);
  const rootfs = join(dir, 'bundle', 'rootfs');
  sh(`cp -a ${data.change.files}/. ${rootfs}/`);
  for (const path of data.change.deleted) rmSync(join(rootfs, path), { recursive: true });
  sh('sync');
}
