import { createWriteStream, rmSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { StackerError } from '../errors';
import { DigestStream } from '../oci/digest';
import type { OciLayout } from '../oci/layout';
import type { Descriptor } from '../oci/types';
import type { RegistryClient } from './client';
import { errorDetail, RegistryHttpError } from './errors';
import { withRetries } from './retry';
import { TransportError } from './transport';

/**
 * Downloads the blob `desc` of `repository` into `layout`, verifying its digest and size while
 * it streams into a temp file: a blob whose bytes do not match is deleted and never stored.
 * A connection lost half-way restarts the download (up to three tries). `onBytes` is told
 * about every chunk, for progress lines.
 */
export async function downloadBlob(args: {
  client: RegistryClient;
  repository: string;
  desc: Descriptor;
  layout: OciLayout;
  what: string;
  onBytes?: (n: number) => void;
}): Promise<void> {
  const { client, repository, desc, layout, what } = args;
  const { signal } = client.opts;
  await withRetries(
    async () => {
      const res = await client.request({
        method: 'GET',
        path: `/v2/${repository}/blobs/${desc.digest}`,
        scopes: [`repository:${repository}:pull`],
        followRedirects: true,
      });
      if (res.status !== 200) {
        const detail = client.secrets.scrub(await errorDetail(res));
        throw new RegistryHttpError(
          `couldn't fetch blob ${desc.digest} of ${what}: the registry answered ${res.status}` +
            (detail ? ` (${detail})` : ''),
          res.status,
        );
      }

      // Stream into a temp blob, hashing on the way; verify before it becomes a blob.
      const tmp = layout.tempBlobPath();
      const digest = new DigestStream();
      let sent = 0;
      res.body.on('data', (chunk: Buffer) => {
        sent += chunk.length;
        args.onBytes?.(chunk.length);
      });
      try {
        await pipeline(res.body, digest, createWriteStream(tmp, { mode: 0o644 }), { signal });
      } catch (err) {
        rmSync(tmp, { force: true });
        args.onBytes?.(-sent);
        throw asTransportError(err, res.url.toString());
      }
      if (digest.digest !== desc.digest || digest.size !== desc.size) {
        rmSync(tmp, { force: true });
        throw new StackerError(
          `blob ${desc.digest} of ${what} failed verification: the registry sent ` +
            `${digest.size} bytes (expected ${desc.size}) hashing to ${digest.digest}; ` +
            'nothing was stored',
          {},
          "the registry's copy is corrupt or was changed in transit; push the image again",
        );
      }
      await layout.writeBlobFromFile(tmp, desc.digest, desc.size, desc.mediaType);
    },
    { signal },
  );
}

/** A connection lost while reading a body is retried like one lost before the answer. */
function asTransportError(err: unknown, url: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ABORT_ERR') return err;
  if (code === 'ECONNRESET' || code === 'ETIMEDOUT' || (err as Error).message === 'aborted') {
    return new TransportError(
      `connection lost while downloading: ${(err as Error).message}`,
      code ?? 'ECONNRESET',
      url,
    );
  }
  return err;
}
