import { readFileSync } from 'node:fs';
import { StackerError } from '../errors';
import type { Logger } from '../log';
import { sha256Digest } from '../oci/digest';
import type { OciLayout } from '../oci/layout';
import {
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_MANIFEST,
} from '../oci/types';
import { findCredentials } from './auth-file';
import { downloadBlob } from './blobs';
import { RegistryClient } from './client';
import { errorDetail, RegistryHttpError, RegistryUnreachableError } from './errors';
import {
  dockerToOci,
  isIndexType,
  MANIFEST_ACCEPT,
  manifestMediaType,
  type PlatformWanted,
  selectPlatform,
} from './manifest';
import { inParallel } from './parallel';
import { progressLine } from './progress';
import type { ImageReference } from './reference';
import { type PullSource, pullSources } from './registries-conf';

/** Manifests and indexes larger than this are refused (real ones are a few KiB). */
const MANIFEST_LIMIT = 4 << 20;
/** Blobs downloaded at the same time. */
const PARALLEL_BLOBS = 3;

export interface PullOptions {
  reference: ImageReference;
  platform: PlatformWanted;
  /** The layout to pull into (`<stacker dir>/layer-bases/oci`). */
  layout: OciLayout;
  /** The tag the image gets in `layout` (see `cacheTagFor`). */
  cacheTag: string;
  insecure: boolean;
  env: NodeJS.ProcessEnv;
  log: Logger;
  signal?: AbortSignal;
}

export interface PullResult {
  /** The image manifest for the platform, tagged `cacheTag` in the layout. */
  manifest: Descriptor;
  /** Blobs downloaded; 0 when the layout had them all. */
  fetched: number;
  /** The registry could not be reached and the image pulled before was used. */
  offline: boolean;
}

/** A manifest or index as the registry sent it, not stored yet. */
interface Fetched {
  desc: Descriptor;
  bytes: Buffer;
  /** Already a blob of the layout. */
  stored: boolean;
}

/**
 * Pulls an image into an OCI layout: the manifest (through an index, for the platform), the
 * config and the layers. Blobs the layout has are not fetched again, so pulling an unchanged
 * image asks the registry for the manifest only (a HEAD request when the registry gives the
 * digest), and a by-digest reference pulled before is not asked for at all. Every blob and
 * manifest is verified against its digest; the manifests are stored and the tag moved only
 * once every blob is there, so a failed pull never tags anything. When the registry cannot be
 * reached (network errors, not refusals) and the tag exists, it is used with a warning.
 */
export async function pullImage(opts: PullOptions): Promise<PullResult> {
  const { reference: ref, layout, cacheTag, log } = opts;
  const existing = layout.resolveTag(cacheTag);
  if (ref.digest && existing && isComplete(layout, existing)) {
    return { manifest: existing, fetched: 0, offline: false };
  }

  // Mirrors from registries.conf first, then the image's own registry.
  const sources = pullSources(ref, opts.insecure, opts.env);
  const failed: string[] = [];
  for (const [i, source] of sources.entries()) {
    try {
      return await pullFrom(opts, source, existing);
    } catch (err) {
      opts.signal?.throwIfAborted();
      if (i === sources.length - 1) {
        if (err instanceof RegistryUnreachableError && existing && isComplete(layout, existing)) {
          log.warn(
            `${err.message}; using the image of ${ref.text} pulled before (${existing.digest})`,
          );
          return { manifest: existing, fetched: 0, offline: true };
        }
        if (failed.length && err instanceof StackerError) {
          throw new StackerError(
            `${err.message} (mirrors failed too: ${failed.join('; ')})`,
            {},
            err.hint,
            { cause: err },
          );
        }
        throw err;
      }
      const why = err instanceof Error ? err.message : String(err);
      failed.push(`${source.mirror}: ${why}`);
      log.warn(
        `mirror ${source.mirror} could not give ${ref.text}: ${why}; trying the next source`,
      );
    }
  }
  throw new Error('no pull source'); // unreachable: the image's own registry is always last
}

/** Pulls the image from one source (a mirror or the image's registry); see pullImage. */
async function pullFrom(
  opts: PullOptions,
  source: PullSource,
  existing: Descriptor | undefined,
): Promise<PullResult> {
  const { layout, cacheTag, log } = opts;
  const ref = source.reference;
  const client = new RegistryClient({
    registry: ref.registry,
    endpoint: ref.endpoint,
    insecure: source.insecure,
    credentials: findCredentials(`${ref.registry}/${ref.repository}`, opts.env),
    env: opts.env,
    log,
    signal: opts.signal,
  });
  const top = await fetchManifest(client, ref, ref.digest ?? (ref.tag as string), layout);

  // An index: the manifest for our platform.
  const fetched = [top];
  let image = top;
  if (isIndexType(top.desc.mediaType)) {
    const index = JSON.parse(top.bytes.toString('utf8')) as ImageIndex;
    const chosen = selectPlatform(index, opts.platform, ref.text);
    image = await fetchManifest(client, ref, chosen.digest, layout);
    fetched.push(image);
  }

  // A Docker manifest is stored as the registry sent it (so the next HEAD finds it) and as
  // the OCI manifest the tag points at.
  const tagged = image.desc.mediaType === MEDIA_TYPE_DOCKER_MANIFEST ? asOci(image, layout) : image;
  if (tagged !== image) fetched.push(tagged);

  // The config and layers the layout lacks, in parallel, then the manifests and the tag.
  const manifest = JSON.parse(tagged.bytes.toString('utf8')) as ImageManifest;
  const count = await fetchBlobs(client, ref, manifest, layout, log);
  for (const f of fetched) {
    if (!f.stored) await layout.writeBlob(f.bytes, f.desc.mediaType);
  }
  if (existing?.digest !== tagged.desc.digest) {
    await layout.updateTags([{ name: cacheTag, descriptor: tagged.desc }]);
  }
  return { manifest: tagged.desc, fetched: count, offline: false };
}

function asOci(image: Fetched, layout: OciLayout): Fetched {
  const bytes = dockerToOci(image.bytes);
  const digest = sha256Digest(bytes);
  const desc = { mediaType: MEDIA_TYPE_MANIFEST, digest, size: bytes.length };
  return { desc, bytes, stored: layout.hasBlob(digest) };
}

/**
 * The manifest or index `reference` (a tag or a digest) names. Asks with HEAD first: when the
 * registry answers with a digest the layout already holds, that copy is used.
 */
async function fetchManifest(
  client: RegistryClient,
  ref: ImageReference,
  reference: string,
  layout: OciLayout,
): Promise<Fetched> {
  const path = `/v2/${ref.repository}/manifests/${reference}`;
  const scopes = [`repository:${ref.repository}:pull`];
  const byDigest = reference.startsWith('sha256:');
  if (byDigest && layout.hasBlob(reference)) return local(layout, reference);

  const head = await client.request({
    method: 'HEAD',
    path,
    headers: { Accept: MANIFEST_ACCEPT },
    scopes,
  });
  head.discard();
  if (head.status === 404) throw notFound(ref, reference);
  const known = head.status === 200 ? head.header('docker-content-digest') : undefined;
  if (known && layout.hasBlob(known)) return local(layout, known);

  const res = await client.request({
    method: 'GET',
    path,
    headers: { Accept: MANIFEST_ACCEPT },
    scopes,
  });
  if (res.status === 404) {
    res.discard();
    throw notFound(ref, reference);
  }
  if (res.status !== 200) {
    const detail = client.secrets.scrub(await errorDetail(res));
    throw new RegistryHttpError(
      `the registry answered ${res.status} for manifest ${reference}` +
        (detail ? ` (${detail})` : ''),
      res.status,
    );
  }
  const bytes = await res.read(MANIFEST_LIMIT);
  const digest = sha256Digest(bytes);
  const expected = byDigest ? reference : res.header('docker-content-digest');
  if (expected && expected !== digest) {
    throw new StackerError(
      `manifest ${reference} failed verification: expected ${expected}, got ${digest}; ` +
        'nothing was stored',
      {},
      "the registry's copy is corrupt or was changed in transit",
    );
  }
  const mediaType = manifestMediaType(res.header('content-type'), bytes);
  return { desc: { mediaType, digest, size: bytes.length }, bytes, stored: false };
}

async function local(layout: OciLayout, digest: string): Promise<Fetched> {
  const bytes = await layout.readBlob(digest);
  const mediaType = manifestMediaType(undefined, bytes);
  return { desc: { mediaType, digest, size: bytes.length }, bytes, stored: true };
}

/** Downloads the config and layers the layout lacks; returns how many it fetched. */
async function fetchBlobs(
  client: RegistryClient,
  ref: ImageReference,
  manifest: ImageManifest,
  layout: OciLayout,
  log: Logger,
): Promise<number> {
  const seen = new Set<string>();
  const missing = [manifest.config, ...manifest.layers].filter((d) => {
    if (seen.has(d.digest) || layout.hasBlob(d.digest)) return false;
    seen.add(d.digest);
    return true;
  });
  if (missing.length === 0) return 0;

  const totalBytes = missing.reduce((n, d) => n + d.size, 0);
  const progress = progressLine({
    log,
    what: `pulling ${ref.text}`,
    blobs: missing.length,
    totalBytes,
  });
  await inParallel(missing, PARALLEL_BLOBS, async (desc) => {
    await downloadBlob({
      client,
      repository: ref.repository,
      desc,
      layout,
      what: ref.text,
      onBytes: (n) => progress.add(n),
    });
    progress.blobDone();
  });
  progress.finish();
  return missing.length;
}

function notFound(ref: ImageReference, reference: string): RegistryHttpError {
  return new RegistryHttpError(
    `manifest ${reference} not found in ${ref.registry}/${ref.repository}`,
    404,
    'check the repository name and the tag (skopeo list-tags docker://<registry>/<repository>)',
  );
}

/** Whether the layout has the manifest `desc` points at and all of its blobs. */
function isComplete(layout: OciLayout, desc: Descriptor): boolean {
  if (!layout.hasBlob(desc.digest)) return false;
  try {
    const m = JSON.parse(readFileSync(layout.blobPath(desc.digest), 'utf8')) as ImageManifest;
    return [m.config, ...(m.layers ?? [])].every((d) => layout.hasBlob(d.digest));
  } catch {
    return false;
  }
}
