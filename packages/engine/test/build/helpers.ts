/** Reading back the layers of built images, for the build integration tests. */
import { execFileSync } from 'node:child_process';
import { blobPath, skopeoManifest } from '../helpers';

/** The entry names of a gzip layer blob as GNU tar lists them, without `./` or a final `/`. */
export function blobEntries(oci: string, digest: string): string[] {
  const out = execFileSync('tar', ['-tzf', blobPath(oci, digest)], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.replace(/^\.\//, '').replace(/\/$/, ''))
    .filter((l) => l !== '' && l !== '.');
}

/** The entry names of layer `index` of `tag` (see blobEntries). */
export function layerEntries(oci: string, tag: string, index: number): string[] {
  return blobEntries(oci, skopeoManifest(oci, tag).layers[index]?.digest ?? '');
}
