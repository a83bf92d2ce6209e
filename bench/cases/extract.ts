import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { extractLayer } from '../../packages/engine/src/storage/extract';
import { BASE_TAG, type BenchData } from '../lib/data';
import { compare, type Row } from '../lib/table';
import { type Case, mb, measureRounds, sh } from '../lib/timing';

/**
 * Base extraction: the base image's layer blob into a fresh directory, by our extractor
 * (digest verified, overlay whiteout format, owners, modes, xattrs) against `tar -xzf` of
 * the same blob and `umoci raw unpack` of the same image.
 */
export async function extractCases(data: BenchData, work: string, runs: number) {
  const out = join(work, 'extract');
  const blob = join(data.ociDir, 'blobs', 'sha256', data.baseLayer.digest.slice('sha256:'.length));
  const fresh = () => {
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    sh('sync');
  };
  const cases: Case[] = [
    {
      name: 'ours',
      prepare: fresh,
      fn: async () => {
        await extractLayer({
          blobPath: blob,
          mediaType: data.baseLayer.mediaType,
          digest: data.baseLayer.digest,
          target: join(out, 'overlay'),
        });
      },
    },
    { name: 'tar', prepare: fresh, fn: () => void sh(`tar -C ${out} -xzf ${blob}`) },
    {
      name: 'umoci',
      prepare: fresh,
      fn: () => void sh(`umoci raw unpack --image ${data.ociDir}:${BASE_TAG} ${out}/rootfs`),
    },
  ];
  const t = await measureRounds(runs, cases);
  rmSync(out, { recursive: true, force: true });

  const what = `extract base layer (${mb(data.baseTarSize)} tar, ${mb(data.baseLayer.size)} blob)`;
  const rows: Row[] = [
    compare({
      measurement: what,
      ours: t.get('ours')!,
      reference: t.get('tar')!,
      referenceName: 'tar -xzf',
      maxRatio: 1,
      goal: 'as fast',
    }),
    compare({
      measurement: 'extract base layer',
      ours: t.get('ours')!,
      reference: t.get('umoci')!,
      referenceName: 'umoci raw unpack',
    }),
  ];
  return rows;
}
