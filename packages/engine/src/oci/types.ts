/**
 * The OCI image-spec structures nx-stacker reads and writes, in the spec's own words:
 * a descriptor points at a blob by digest; a manifest lists a config and layers; an index
 * lists manifests; index.json at the root of an image layout is an index whose entries carry
 * the tag as the `org.opencontainers.image.ref.name` annotation.
 *
 * Field names are the JSON names of the spec (and of Docker for the runtime config), so these
 * types are read from and written to JSON as they are.
 */

/** Content of the `oci-layout` file and the only version of the layout we write. */
export const OCI_LAYOUT_VERSION = '1.0.0';

export const MEDIA_TYPE_INDEX = 'application/vnd.oci.image.index.v1+json';
export const MEDIA_TYPE_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const MEDIA_TYPE_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const MEDIA_TYPE_LAYER_TAR = 'application/vnd.oci.image.layer.v1.tar';
export const MEDIA_TYPE_LAYER_TAR_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const MEDIA_TYPE_LAYER_TAR_ZSTD = 'application/vnd.oci.image.layer.v1.tar+zstd';

/** Docker schema 2 types; they only appear in base images copied from registries. */
export const MEDIA_TYPE_DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const MEDIA_TYPE_DOCKER_MANIFEST_LIST =
  'application/vnd.docker.distribution.manifest.list.v2+json';
export const MEDIA_TYPE_DOCKER_LAYER_TAR_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';

/** stacker's own layer types, stacked with overlayfs as they are (see spec §3.6). */
export const MEDIA_TYPE_LAYER_SQUASHFS_GZIP = 'application/vnd.stacker.image.layer.squashfs+gzip';
export const MEDIA_TYPE_LAYER_SQUASHFS_ZSTD = 'application/vnd.stacker.image.layer.squashfs+zstd';
export const MEDIA_TYPE_LAYER_EROFS_LZ4HC = 'application/vnd.stacker.image.layer.erofs+lz4hc';

/** The tag of an index.json entry. */
export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';
/** Size of a compressed layer once uncompressed, in decimal; written by umoci and stacker. */
export const ANNOTATION_UNCOMPRESSED_SIZE = 'ci.umo.uncompressed_blob_size';
/** dm-verity root hash of a squashfs/erofs layer. */
export const ANNOTATION_VERITY_ROOT_HASH = 'io.stackeroci.stacker.atomfs_verity_root_hash';

/** What a manifest in an index was built for. */
export interface Platform {
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
  features?: string[];
}

/** A reference to a blob: its media type, digest (`sha256:<hex>`) and size in bytes. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  data?: string;
  platform?: Platform;
  artifactType?: string;
}

/** An image manifest: one config and the layers, bottom first. */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** An image index; index.json is one. */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** The runtime part of an image config (Docker's field names, as the spec keeps them). */
export interface RuntimeConfig {
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  ArgsEscaped?: boolean;
}

/** One entry of an image config's history; `empty_layer` entries have no diff ID. */
export interface History {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** An image config: the runtime config, the diff IDs of the layers and the history. */
export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
  config?: RuntimeConfig;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: History[];
}

/** A tag of a layout: an index.json entry and its ref name. */
export interface Tag {
  name: string;
  descriptor: Descriptor;
}
