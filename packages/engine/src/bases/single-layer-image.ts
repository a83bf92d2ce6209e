import { makeStamp } from '../build/image';
import type { OciLayout } from '../oci/layout';
import type { Descriptor, RuntimeConfig } from '../oci/types';
import type { TreeXattrs } from '../pack/headers';
import { type PackResult, packLayer } from '../pack/pack-layer';
import { hostArch } from '../parse';

/**
 * Packs `dir` as the only layer of a new linux image for the host architecture and tags it
 * `tag` in `layout`; `created` and the history entry use `sourceDateEpoch`, so the same tree
 * gives the same digest. Used for base images made from a directory (busybox, debootstrap).
 */
export async function writeSingleLayerImage(opts: {
  layout: OciLayout;
  dir: string;
  tag: string;
  xattrs: TreeXattrs;
  sourceDateEpoch: number;
  config: RuntimeConfig;
  createdBy: string;
}): Promise<{ manifest: Descriptor; layer: PackResult }> {
  const { created } = makeStamp(opts.sourceDateEpoch, '');
  const layer = await packLayer({
    dir: opts.dir,
    layout: opts.layout,
    sourceDateEpoch: opts.sourceDateEpoch,
    xattrs: opts.xattrs,
  });
  const manifest = await opts.layout.writeImage({
    manifest: {
      schemaVersion: 2,
      config: { mediaType: '', digest: '', size: 0 },
      layers: [layer.descriptor],
    },
    config: {
      created,
      architecture: hostArch(),
      os: 'linux',
      config: opts.config,
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      history: [{ created, created_by: opts.createdBy }],
    },
  });
  await opts.layout.updateTags([{ name: opts.tag, descriptor: manifest }]);
  return { manifest, layer };
}
