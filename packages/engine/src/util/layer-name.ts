/**
 * A layer name as one path segment, for the files and dirs named after a layer (roots dirs,
 * locks, LXC configs and logs, snapshots, container names): `%` and `/` percent-escaped, every
 * other name unchanged. Lossless, so `a/b` and `a_b` never share a file.
 */
export function escapeLayerName(layer: string): string {
  return layer.replaceAll('%', '%25').replaceAll('/', '%2F');
}
