import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { StackerError } from '../errors';
import type { Descriptor, ImageManifest } from '../oci/types';
import { errnoCode, removeDeadTemps, writeFileAtomic } from '../util/fs';
import { escapeLayerName } from '../util/layer-name';
import { OWNER_TAG, ownerTagAlive } from '../util/process';
import { extractLayer, removeTree } from './extract';

/** Mode of the dirs holding layer content: only the owner (root) may enter them. */
const PRIVATE = 0o700;
/** Mode of an upper dir: the root of the container, and of the layer made from it. */
const ROOT_DIR_MODE = 0o755;

/** An extraction's temp dir next to its target, `overlay.tmp-<pid>-<random>` (extractLayer). */
const EXTRACT_TEMP = new RegExp(`^overlay\\.tmp-(${OWNER_TAG})-`);

/** `sha256:<hex>` -> `sha256_<hex>`: `:` separates overlay lower dirs, so it cannot appear. */
export function digestDirName(digest: string): string {
  return digest.replace(':', '_');
}

/**
 * The roots dir, laid out as stacker lays it out:
 * - `sha256_<hex>/overlay`: the content of one OCI layer, extracted once, shared by every
 *   layer built on it, in overlayfs on-disk format (whiteouts are 0:0 char devices);
 * - `sha256_<hexB>` -> `sha256_<hexA>`: a symlink, layer B being layer A as another layer
 *   type (squashfs of a tar layer, say), with the same content;
 * - `<layer>/overlay`: the upper dir a layer's `run` writes to;
 * - `<layer>/work`, `<layer>/rootfs`: overlayfs work dir and the mount point of the stack;
 * - `<layer>/overlay_metadata.json`: what the layer is stacked on.
 *
 * `sha256_<hex>` and `<layer>` dirs are mode 0700: layers hold whatever their image holds,
 * setuid-root programs and device nodes included, and a base image is untrusted input, so
 * no other user of the host may reach into them (umoci makes its bundles 0700 likewise).
 */
export class Roots {
  constructor(readonly dir: string) {}

  /** Where the content of the OCI layer with this (compressed) digest lives. */
  contentDir(digest: string): string {
    return join(this.dir, digestDirName(digest), 'overlay');
  }

  /** Whether the OCI layer with this digest is already extracted (extraction is atomic). */
  hasContent(digest: string): boolean {
    return existsSync(this.contentDir(digest));
  }

  /** Creates the parent of a content dir (0700), before something is renamed into place there. */
  prepareContent(digest: string): void {
    const parent = join(this.dir, digestDirName(digest));
    // A link to another type's content whose target was removed (gc) is replaced.
    if (isDanglingLink(parent)) rmSync(parent, { force: true });
    mkdirSync(parent, { recursive: true });
    chmodSync(parent, PRIVATE);
  }

  /**
   * The dir of a layer's upper, work and mount dirs: its name, as in stacker, except that `/`
   * (and `%`) are escaped, so that `a/b` neither needs a dir `a` nor lives inside layer `a`.
   */
  layerDir(layer: string): string {
    return join(this.dir, escapeLayerName(layer));
  }

  upperDir(layer: string): string {
    return join(this.layerDir(layer), 'overlay');
  }

  workDir(layer: string): string {
    return join(this.layerDir(layer), 'work');
  }

  mountDir(layer: string): string {
    return join(this.layerDir(layer), 'rootfs');
  }

  lockPath(layer: string): string {
    return join(this.dir, `.${escapeLayerName(layer)}.lock`);
  }

  /**
   * Makes sure the OCI layer `desc` is extracted; `blobPath` is where its blob can be read.
   * Returns the content dir. Extraction is atomic, so a dir that exists is complete.
   */
  async ensureExtracted(desc: Descriptor, blobPath: string): Promise<string> {
    const target = this.contentDir(desc.digest);
    if (this.hasContent(desc.digest)) return target;
    this.prepareContent(desc.digest);
    await extractLayer({ blobPath, mediaType: desc.mediaType, target, digest: desc.digest });
    return target;
  }

  /** Starts a layer afresh: an empty upper dir, work dir and mount point. */
  resetLayer(layer: string): void {
    rmSync(this.layerDir(layer), { recursive: true, force: true });
    mkdirSync(this.layerDir(layer), { recursive: true });
    chmodSync(this.layerDir(layer), PRIVATE);
    for (const dir of [this.upperDir(layer), this.workDir(layer), this.mountDir(layer)]) {
      mkdirSync(dir, { recursive: true });
    }
    // The upper dir is the container's `/` and the layer's root entry: not the umask's say.
    chmodSync(this.upperDir(layer), ROOT_DIR_MODE);
  }

  /**
   * Moves a packed upper dir to the content dir of the OCI layer made from it, so layers built
   * on top reuse it without extracting the blob, and leaves an empty upper dir behind. When
   * that content dir already exists (identical content built before) the upper dir is dropped.
   */
  commitUpper(layer: string, digest: string): void {
    const upper = this.upperDir(layer);
    const target = this.contentDir(digest);
    this.prepareContent(digest);
    try {
      renameSync(upper, target);
    } catch (err) {
      const code = errnoCode(err);
      if (code !== 'EEXIST' && code !== 'ENOTEMPTY') {
        throw new StackerError(`couldn't move overlay data to new location: ${String(err)}`, {
          layer,
          step: 'pack',
        });
      }
      rmSync(upper, { recursive: true, force: true });
    }
    mkdirSync(upper, { recursive: true });
    chmodSync(upper, ROOT_DIR_MODE);
  }

  /**
   * Makes `sha256_<hex of digest>` a symlink to `sha256_<hex of source>`: the layer `digest`
   * is the layer `source` as another layer type, with the same content. An existing entry
   * (content extracted or linked before) is kept.
   */
  linkContent(digest: string, source: string): void {
    const link = join(this.dir, digestDirName(digest));
    if (isDanglingLink(link)) rmSync(link, { force: true });
    try {
      symlinkSync(digestDirName(source), link);
    } catch (err) {
      if (errnoCode(err) === 'EEXIST') return;
      throw new StackerError(`couldn't symlink additional layer type: ${String(err)}`, {
        step: 'pack',
      });
    }
  }

  /**
   * Writes `<layer>/overlay_metadata.json` with the field names stacker uses, so tools that read
   * it keep working. `images` maps stacker's `<type>+<verity>` keys to each type's image;
   * without it the one image is the `tar` one.
   */
  writeMetadata(
    layer: string,
    manifest: ImageManifest,
    config: unknown,
    images?: Record<string, { manifest: ImageManifest; config: unknown }>,
  ): void {
    const typed = images ?? { 'tar+false': { manifest, config } };
    const pick = (field: 'manifest' | 'config') =>
      Object.fromEntries(Object.entries(typed).map(([key, image]) => [key, image[field]]));
    const meta = {
      Manifests: pick('manifest'),
      Configs: pick('config'),
      BuiltLayers: null,
      HasBuiltOCIOutput: false,
      OverlayDirLayers: null,
    };
    writeFileAtomic(join(this.layerDir(layer), 'overlay_metadata.json'), JSON.stringify(meta));
  }

  /**
   * Removes what killed builds left: `sha256_<hex>/overlay.tmp-<owner>-…` dirs of an
   * extraction, and temp files of a lock or metadata write in the roots dir or a layer's dir,
   * whose process is gone. Temp files and dirs of live processes are left to them.
   */
  async removeStaleTemps(): Promise<string[]> {
    const removed = removeDeadTemps(this.dir);
    for (const name of readdirOrEmpty(this.dir)) {
      if (!name.startsWith('sha256_')) {
        removed.push(...removeDeadTemps(join(this.dir, name)).map((n) => join(name, n)));
        continue;
      }
      for (const entry of readdirOrEmpty(join(this.dir, name))) {
        const match = EXTRACT_TEMP.exec(entry);
        if (!match || ownerTagAlive(match[1] as string)) continue;
        await removeTree(join(this.dir, name, entry));
        removed.push(join(name, entry));
      }
    }
    return removed;
  }

  /** Whether `dir` is an existing directory. */
  static isDir(dir: string): boolean {
    try {
      return statSync(dir).isDirectory();
    } catch {
      return false;
    }
  }
}

/** True for a symlink whose target does not exist. */
function isDanglingLink(path: string): boolean {
  try {
    if (!lstatSync(path).isSymbolicLink()) return false;
  } catch {
    return false;
  }
  return !existsSync(path);
}

function readdirOrEmpty(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return [];
    throw err;
  }
}
