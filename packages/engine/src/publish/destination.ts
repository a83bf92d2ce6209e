import { copyBlobs } from '../build/blobs';
import type { Logger } from '../log';
import { OciLayout } from '../oci/layout';
import type { Descriptor, ImageManifest } from '../oci/types';
import { type Credentials, findCredentials } from '../registry/auth-file';
import { RegistryClient } from '../registry/client';
import { pushImage } from '../registry/push';
import { type ImageReference, parseImageReference } from '../registry/reference';
import { pushSettings } from '../registry/registries-conf';
import type { Destination } from './options';

/** One image to send: a layer's manifest in the OCI dir, under one tag. */
export interface Shipment {
  layer: string;
  tag: string;
  manifest: Descriptor;
  /** A repository of the destination registry the layer's base came from, if any. */
  baseRepository?: string;
}

/**
 * Sends images to one destination, remembering what it sent so later images can mount
 * blobs from repositories pushed earlier instead of uploading them again.
 */
export class Publisher {
  /** One client per repository: credentials are looked up per repository. */
  private readonly clients = new Map<string, RegistryClient>();
  /** Blob digest -> a repository of the destination registry known to hold it. */
  private readonly holders = new Map<string, string>();

  constructor(
    private readonly dest: Destination,
    private readonly opts: {
      layout: OciLayout;
      credentials?: Credentials;
      skipTls: boolean;
      env: NodeJS.ProcessEnv;
      log: Logger;
      signal?: AbortSignal;
    },
  ) {}

  /**
   * Where a layer goes under a tag: `docker://<url>/<layer>:<tag>` or
   * `oci:<dir>:<layer>_<tag>` (stacker's names; other layer types would add a suffix).
   */
  describe(layer: string, tag: string): string {
    if (this.dest.kind === 'docker') return `${this.dest.url}/${layer}:${tag}`;
    return `oci:${this.dest.dir}:${layer}_${tag}`;
  }

  /** Sends one image; returns a line for the log about what it took. */
  async send(item: Shipment): Promise<string> {
    if (this.dest.kind === 'oci') return this.toLayout(this.dest.dir, item);
    const ref = parseImageReference(this.describe(item.layer, item.tag));
    const client = this.clientFor(ref);
    const result = await pushImage({
      client,
      repository: ref.repository,
      tag: ref.tag as string,
      layout: this.opts.layout,
      manifest: item.manifest,
      mountSource: (digest) => this.holders.get(digest) ?? item.baseRepository,
      what: ref.text,
    });
    const manifest = await this.opts.layout.readJson<ImageManifest>(item.manifest);
    for (const d of [manifest.config, ...manifest.layers])
      this.holders.set(d.digest, ref.repository);
    return (
      `${ref.text}: ${result.digest} (${result.uploaded} blobs uploaded, ${result.mounted} ` +
      `mounted, ${result.existing} already there)`
    );
  }

  /** The registry this destination names, as written in `--url`. */
  registry(): string | undefined {
    if (this.dest.kind !== 'docker') return undefined;
    return parseImageReference(`${this.dest.url}/layer:tag`).registry;
  }

  private clientFor(ref: ImageReference): RegistryClient {
    const key = `${ref.registry}/${ref.repository}`;
    let client = this.clients.get(key);
    if (!client) {
      const settings = pushSettings(ref, this.opts.env);
      client = new RegistryClient({
        registry: ref.registry,
        endpoint: ref.endpoint,
        insecure: this.opts.skipTls || settings.insecure,
        credentials: this.opts.credentials ?? findCredentials(key, this.opts.env),
        env: this.opts.env,
        log: this.opts.log,
        signal: this.opts.signal,
      });
      this.clients.set(key, client);
    }
    return client;
  }

  /** Copies the image's blobs into the layout at `dir` and tags it there. */
  private async toLayout(dir: string, item: Shipment): Promise<string> {
    const target = await OciLayout.open(dir, { create: true, logger: this.opts.log });
    const manifest = await this.opts.layout.readJson<ImageManifest>(item.manifest);
    copyBlobs(this.opts.layout, target, [item.manifest, manifest.config, ...manifest.layers]);
    const name = `${item.layer}_${item.tag}`;
    await target.updateTags([{ name, descriptor: item.manifest }]);
    return `oci:${dir}:${name}: ${item.manifest.digest}`;
  }
}
