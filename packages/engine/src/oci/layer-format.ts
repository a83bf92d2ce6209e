/**
 * How the overlayfs on-disk format maps to OCI layer tars, both ways.
 *
 * On disk (an overlay upper dir, or an extracted layer used as a lower dir, mounted with
 * `userxattr`): a deleted path is a character device 0:0 (or, on some kernels, a zero-size
 * file with `user.overlay.whiteout`); a directory whose lower content is hidden carries
 * `user.overlay.opaque=y`; an xattr a user set whose name starts with `user.overlay.` is
 * stored escaped as `user.overlay.overlay.<rest>`.
 *
 * In the tar: a deleted path is an empty entry `<dir>/.wh.<name>`; an opaque directory is
 * followed by an entry `<dir>/.wh..wh..opq`; xattrs are PAX `SCHILY.xattr.<name>` records.
 */

/** Prefix of whiteout entries; a real file with this prefix cannot be stored in a layer. */
export const WHITEOUT_PREFIX = '.wh.';
/** Entry marking its directory as opaque. */
export const OPAQUE_WHITEOUT = '.wh..wh..opq';
/** Other `.wh..wh.` names are AUFS bookkeeping, meaningless to overlayfs. */
export const AUFS_META_PREFIX = '.wh..wh.';

export const OVERLAY_OPAQUE_XATTR = 'user.overlay.opaque';
export const OVERLAY_WHITEOUT_XATTR = 'user.overlay.whiteout';

const USER_OVERLAY = 'user.overlay.';
const ESCAPED_USER_OVERLAY = 'user.overlay.overlay.';

/** Host-specific xattrs no layer should carry, in either direction. */
const HOST_XATTRS = new Set(['security.selinux', 'system.nfs4_acl']);

/**
 * The name an on-disk xattr gets in a layer, or undefined to leave it out: host-specific
 * ones and overlayfs bookkeeping (`user.overlay.*`, `trusted.overlay.*`) are dropped,
 * escaped user xattrs are restored to their real name.
 */
export function layerXattrName(diskName: string): string | undefined {
  if (HOST_XATTRS.has(diskName) || diskName.startsWith('trusted.overlay.')) return undefined;
  if (diskName.startsWith(ESCAPED_USER_OVERLAY)) {
    return USER_OVERLAY + diskName.slice(ESCAPED_USER_OVERLAY.length);
  }
  if (diskName.startsWith(USER_OVERLAY)) return undefined;
  return diskName;
}

/**
 * The name a layer's xattr gets on disk, or undefined to leave it out: the inverse of
 * `layerXattrName`, escaping `user.overlay.*` so overlayfs does not read it as its own.
 */
export function diskXattrName(layerName: string): string | undefined {
  if (HOST_XATTRS.has(layerName) || layerName.startsWith('trusted.overlay.')) return undefined;
  if (layerName.startsWith(USER_OVERLAY)) {
    return ESCAPED_USER_OVERLAY + layerName.slice(USER_OVERLAY.length);
  }
  return layerName;
}
