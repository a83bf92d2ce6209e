import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lxcConfigLines } from '../../packages/engine/src/native/lxc-config';
import { runContainer } from '../../packages/engine/src/native/runner';
import { extractLayer } from '../../packages/engine/src/storage/extract';
import type { BenchData } from '../lib/data';
import { compare, type Row } from '../lib/table';
import { measureRounds, sh } from '../lib/timing';

/**
 * The cost of starting a container: our runner (private namespaces, overlay mount of the
 * base layer, liblxc start, /bin/true, teardown), called from Node as a build calls it,
 * against `lxc-execute /bin/true` on the same overlay (LXC's own overlay rootfs backend).
 */
export async function runnerCases(data: BenchData, work: string, runs: number) {
  const dir = join(work, 'runner');
  rmSync(dir, { recursive: true, force: true });
  const lower = join(dir, 'base', 'overlay');
  await extractLayer({
    blobPath: join(data.ociDir, 'blobs', 'sha256', data.baseLayer.digest.slice(7)),
    mediaType: data.baseLayer.mediaType,
    digest: data.baseLayer.digest,
    target: lower,
  });
  const paths = {
    upper: join(dir, 'upper'),
    work: join(dir, 'work'),
    rootfs: join(dir, 'rootfs'),
    pivot: join(dir, 'pivot'),
    lxcpath: join(dir, 'lxc'),
  };
  const fresh = () => {
    for (const d of [paths.upper, paths.work]) rmSync(d, { recursive: true, force: true });
    for (const d of Object.values(paths)) mkdirSync(d, { recursive: true });
  };
  fresh();

  const common = lxcConfigLines({
    hostname: 'bench',
    rootfsMount: paths.pivot,
    env: [],
    binds: [],
  });
  const ours = join(dir, 'ours.conf');
  writeFileSync(ours, `${common.join('\n')}\n`);
  const lxc = join(dir, 'lxc.conf');
  const rootfsPath = `lxc.rootfs.path = overlay:${lower}:${paths.upper}`;
  writeFileSync(lxc, `${[...common, rootfsPath].join('\n')}\n`);

  const t = await measureRounds(runs * 3, [
    {
      name: 'ours',
      prepare: fresh,
      fn: async () => {
        const r = await runContainer({
          name: 'bench-runner',
          lxcpath: paths.lxcpath,
          configFile: ours,
          rootfs: paths.rootfs,
          upper: paths.upper,
          work: paths.work,
          lowers: [lower],
          command: ['/bin/true'],
        });
        if (r.exitCode !== 0) throw new Error(`/bin/true in our runner exited ${r.exitCode}`);
      },
    },
    {
      name: 'lxc-execute',
      prepare: fresh,
      fn: () => void sh(`lxc-execute -n bench-lxc -P ${paths.lxcpath} -f ${lxc} -- /bin/true`),
    },
  ]);
  rmSync(dir, { recursive: true, force: true });

  const rows: Row[] = [
    compare({
      measurement: 'container start: overlay mount + /bin/true',
      ours: t.get('ours')!,
      reference: t.get('lxc-execute')!,
      referenceName: 'lxc-execute',
    }),
  ];
  return rows;
}
