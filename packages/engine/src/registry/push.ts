import { createReadStream } from 'node:fs';
import { StackerError } from '../errors';
import type { OciLayout } from '../oci/layout';
import type { Descriptor, ImageManifest } from '../oci/types';
import type { RegistryClient } from './client';
import { errorDetail, RegistryHttpError } from './errors';
import { inParallel } from './parallel';
import type { HttpResponse } from './transport';

/** Blobs uploaded at the same time. */
const PARALLEL_BLOBS = 3;

export interface PushOptions {
  client: RegistryClient;
  repository: string;
  tag: string;
  /** The layout holding the image; read only. */
  layout: OciLayout;
  /** The image manifest to push, as the layout's index.json (or cache) refers to it. */
  manifest: Descriptor;
  /** A repository of the same registry that may hold a blob already, for a mount. */
  mountSource(digest: string): string | undefined;
  /** `docker://…` of the destination, for messages. */
  what: string;
}

/** What a push did with the image's blobs. */
export interface PushResult {
  digest: string;
  uploaded: number;
  mounted: number;
  existing: number;
}

/**
 * Pushes an image from a layout to `repository:tag` (distribution spec): each blob the
 * repository lacks (HEAD) is mounted from `mountSource`'s repository when the registry allows
 * it, else uploaded in one PUT; then the manifest is PUT with its own media type and its exact
 * bytes, so the registry's digest is the layout's. The layout is only read.
 */
export async function pushImage(opts: PushOptions): Promise<PushResult> {
  const { layout, manifest } = opts;
  const bytes = await layout.readBlob(manifest);
  const image = JSON.parse(bytes.toString('utf8')) as ImageManifest;
  const result: PushResult = { digest: manifest.digest, uploaded: 0, mounted: 0, existing: 0 };

  // Blobs first: a manifest may only refer to blobs the repository has.
  const seen = new Set<string>();
  const blobs = [image.config, ...image.layers].filter((d) => {
    if (seen.has(d.digest)) return false;
    seen.add(d.digest);
    return true;
  });
  await inParallel(blobs, PARALLEL_BLOBS, async (desc) => {
    const how = await pushBlob(opts, desc);
    result[how]++;
  });

  // Then the manifest, under the tag.
  const res = await opts.client.request({
    method: 'PUT',
    path: `/v2/${opts.repository}/manifests/${opts.tag}`,
    headers: { 'Content-Type': manifest.mediaType },
    body: bytes,
    scopes: [pushScope(opts.repository)],
  });
  if (res.status !== 201 && res.status !== 200) {
    throw await failure(opts, res, `the manifest upload answered ${res.status}`);
  }
  res.discard();
  const stored = res.header('docker-content-digest');
  if (stored && stored !== manifest.digest) {
    throw new StackerError(
      `${opts.what}: the registry stored the manifest as ${stored}, not ${manifest.digest}`,
      {},
      'the registry rewrote the manifest; it may not support OCI manifests',
    );
  }
  return result;
}

/** Makes sure the repository has one blob; says how. */
async function pushBlob(
  opts: PushOptions,
  desc: Descriptor,
): Promise<'uploaded' | 'mounted' | 'existing'> {
  const { client, repository } = opts;
  const head = await client.request({
    method: 'HEAD',
    path: `/v2/${repository}/blobs/${desc.digest}`,
    scopes: [pushScope(repository)],
  });
  head.discard();
  if (head.status === 200) return 'existing';

  const location = await mountOrStart(opts, desc);
  if (location === 'mounted') return 'mounted';

  // The whole blob in one PUT (a monolithic upload).
  const url = client.urlFor(location);
  url.searchParams.set('digest', desc.digest);
  const path = opts.layout.blobPath(desc.digest);
  const put = await client.request({
    method: 'PUT',
    path: url.toString(),
    headers: { 'Content-Type': 'application/octet-stream' },
    body: () => createReadStream(path),
    bodyLength: desc.size,
    scopes: [pushScope(repository)],
  });
  if (put.status !== 201) {
    throw await failure(opts, put, `the upload of ${desc.digest} answered ${put.status}`);
  }
  put.discard();
  return 'uploaded';
}

/**
 * Mounts the blob from another repository when one may hold it (201), else starts an upload
 * (a refused mount answers 202 and starts one too); returns 'mounted' or the upload's url.
 */
async function mountOrStart(opts: PushOptions, desc: Descriptor): Promise<string> {
  const { client, repository } = opts;
  const from = opts.mountSource(desc.digest);
  if (from && from !== repository) {
    const query = `mount=${encodeURIComponent(desc.digest)}&from=${encodeURIComponent(from)}`;
    const mount = await client.request({
      method: 'POST',
      path: `/v2/${repository}/blobs/uploads/?${query}`,
      scopes: [pushScope(repository), `repository:${from}:pull`],
    });
    mount.discard();
    if (mount.status === 201) return 'mounted';
    const location = mount.status === 202 ? mount.header('location') : undefined;
    if (location) return location;
  }

  const start = await client.request({
    method: 'POST',
    path: `/v2/${repository}/blobs/uploads/`,
    scopes: [pushScope(repository)],
  });
  if (start.status !== 202) {
    throw await failure(
      opts,
      start,
      `starting the upload of ${desc.digest} answered ${start.status}`,
    );
  }
  start.discard();
  const location = start.header('location');
  if (!location) throw new StackerError(`${opts.what}: the registry gave no upload location`);
  return location;
}

function pushScope(repository: string): string {
  return `repository:${repository}:pull,push`;
}

async function failure(
  opts: PushOptions,
  res: HttpResponse,
  what: string,
): Promise<RegistryHttpError> {
  const detail = opts.client.secrets.scrub(await errorDetail(res));
  return new RegistryHttpError(
    `couldn't push ${opts.what}: ${what}${detail ? ` (${detail})` : ''}`,
    res.status,
  );
}
