import type { StackerFileOptions } from '../build/sources';
import { StackerError } from '../errors';
import { isValidTagName } from '../oci/index-json';
import { isValidRegistryTag, parseImageReference } from '../registry/reference';

/** What a caller (the CLI, later the Nx executor) asks `publish` to do: stacker's flags. */
export interface PublishOptions extends StackerFileOptions {
  /** `--url`: `docker://<registry>[/<namespace>]` or `oci:<layout dir>`. */
  url: string;
  /** `--tag`, one or more. */
  tags: string[];
  /** `--username`/`--password` for the destination registry; both or neither. */
  username?: string;
  password?: string;
  /** `--skip-tls`: accept any certificate from the destination, fall back to plain http. */
  skipTls?: boolean;
  /** `--image`: publish only these layers. */
  images?: string[];
  /** `--layer-type` (only `tar` so far). */
  layerTypes?: string[];
  /** `--show-only`: say what would be published, publish nothing. */
  showOnly?: boolean;
  /** `--force`: publish the tagged image even when the layer is not cached as it is now. */
  force?: boolean;
  /** Must match the build's for layers to count as cached (defaults as for the build). */
  annotationsNamespace?: string;
  /** The build's gzip level; by default the level the layers' newest cache entries used. */
  gzipLevel?: number;
  sourceDateEpoch?: number;
  /** Environment read for SOURCE_DATE_EPOCH, auth files and CA certificates. */
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

/** Where images go: a registry namespace or an OCI layout. */
export type Destination = { kind: 'docker'; url: string } | { kind: 'oci'; dir: string };

/**
 * Checks the flags before anything is read (stacker's order and messages, except that
 * credentials are never echoed): username and password go together, `--url` is needed and is
 * `docker://…` or `oci:…`, there is at least one tag.
 */
export function checkPublishOptions(opts: PublishOptions): Destination {
  const hasUser = !!opts.username;
  const hasPassword = !!opts.password;
  if (hasUser !== hasPassword) {
    throw new StackerError(
      'supply both username and password, or none of them ' +
        `(only the ${hasUser ? 'username' : 'password'} was given)`,
      { step: 'publish' },
    );
  }
  if (!opts.url) {
    throw new StackerError('--url is a mandatory argument for publishing', { step: 'publish' });
  }
  if (opts.tags.length === 0) {
    throw new StackerError(
      `can't save OCI images in ${opts.stackerFiles.join(', ')} since list of tags is empty`,
      { step: 'publish' },
      'give at least one --tag',
    );
  }
  if (opts.url.startsWith('docker://')) {
    const url = opts.url.replace(/\/+$/, '');
    checkRegistryUrl(url, opts.url);
    for (const tag of opts.tags) checkTag(tag, isValidRegistryTag(tag), DOCKER_TAG_HINT);
    return { kind: 'docker', url };
  }
  if (opts.url.startsWith('oci:')) {
    for (const tag of opts.tags) checkTag(tag, isValidTagName(`x_${tag}`), OCI_TAG_HINT);
    return { kind: 'oci', dir: opts.url.slice('oci:'.length) };
  }
  throw new StackerError(
    `unknown image source type: ${opts.url}`,
    { step: 'publish' },
    'publish to docker://<registry>[/<namespace>] or oci:<layout dir>',
  );
}

const DOCKER_TAG_HINT = 'a tag is up to 128 letters, digits, _ . and - (not starting with . or -)';
const OCI_TAG_HINT = 'a tag is letters and digits, joined by single - . _ : @ + or /';

function checkTag(tag: string, valid: boolean, hint: string): void {
  if (!valid)
    throw new StackerError(`invalid --tag ${JSON.stringify(tag)}`, { step: 'publish' }, hint);
}

/** `docker://<registry>[/<namespace>]` must give valid repository names with a layer name. */
function checkRegistryUrl(url: string, given: string): void {
  const probe = `${url}/layer:tag`;
  try {
    parseImageReference(probe);
  } catch (err) {
    const why = (err as Error).message.split(`${probe}: `)[1] ?? (err as Error).message;
    throw new StackerError(
      `invalid --url ${given}: ${why}`,
      { step: 'publish' },
      'write docker://<registry>[/<namespace>], e.g. docker://registry.example.com/team',
    );
  }
}
