import { createHash } from 'node:crypto';
import { StackerError } from '../errors';

/** Docker Hub, as references name it and as its API is reached. */
const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_API = 'registry-1.docker.io';

/** One path component of a repository name (distribution's reference grammar). */
const REPO_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;

/** Whether `tag` is a valid tag under the distribution spec's grammar. */
export function isValidRegistryTag(tag: string): boolean {
  return TAG.test(tag);
}
const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** An image in a registry: `docker://<registry>/<repository>[:<tag>][@<digest>]`. */
export interface ImageReference {
  /** The registry as written (`docker.io` for Docker Hub); the key of auth-file lookups. */
  registry: string;
  /** `host[:port]` the API is reached at (Docker Hub's is registry-1.docker.io). */
  endpoint: string;
  /** Repository path, e.g. `library/ubuntu`. */
  repository: string;
  /** The tag; `latest` when neither a tag nor a digest is written. */
  tag?: string;
  digest?: string;
  /** `docker://registry/repository[:tag][@digest]`, for messages. */
  text: string;
}

/**
 * Parses a `docker://` reference the way docker and containers/image read one: the first
 * path component is a registry when it has a `.` or a `:` or is `localhost`, else the image
 * is on Docker Hub (where one-component names live under `library/`). Throws a StackerError
 * (without location: the caller adds it) for anything that is not a valid reference.
 */
export function parseImageReference(url: string): ImageReference {
  const bad = (why: string) =>
    new StackerError(
      `bad image ref: ${url}: ${why}`,
      {},
      'write docker://<registry>/<repository>:<tag>, e.g. docker://docker.io/library/alpine:3.20',
    );
  if (!url.startsWith('docker://')) throw bad('not a docker:// url');
  let rest = url.slice('docker://'.length);

  // The digest, then the tag (a `:` after the last `/`), then registry and repository.
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad(`digest ${digest} is not sha256:<64 hex digits>`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(`tag '${tag}' is not valid`);
  }
  const { registry, repository } = splitRegistry(rest);
  if (!registry || !repository) throw bad('no repository');
  for (const part of repository.split('/')) {
    if (!REPO_COMPONENT.test(part)) throw bad(`repository '${repository}' is not valid`);
  }
  if (!tag && !digest) tag = 'latest';

  const endpoint = endpointFor(registry);
  const version = `${tag ? `:${tag}` : ''}${digest ? `@${digest}` : ''}`;
  const text = `docker://${registry}/${repository}${version}`;
  return { registry, endpoint, repository, tag, digest, text };
}

/** `host[:port]` a registry's API is reached at (Docker Hub's is registry-1.docker.io). */
export function endpointFor(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_API : registry;
}

function splitRegistry(name: string): { registry: string; repository: string } {
  const slash = name.indexOf('/');
  const first = slash < 0 ? name : name.slice(0, slash);
  const isRegistry =
    slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!isRegistry) {
    const repository = name.includes('/') ? name : `library/${name}`;
    return { registry: DOCKER_HUB, repository };
  }
  const registry = first === 'index.docker.io' ? DOCKER_HUB : first;
  const repository = name.slice(slash + 1);
  return {
    registry,
    repository:
      registry === DOCKER_HUB && !repository.includes('/') ? `library/${repository}` : repository,
  };
}

/**
 * The tag a pulled image gets in `<stacker dir>/layer-bases/oci`. Unlike stacker's (the
 * repository's basename, so `ubuntu:20.04` and `ubuntu:22.04` overwrote each other), it holds
 * the registry, repository, tag or digest and the platform, so every distinct base has its
 * own slot. Names the image-spec would refuse fall back to a hash of the same text.
 */
export function cacheTagFor(
  ref: ImageReference,
  platform: { os: string; arch: string; variant?: string },
): string {
  const version = ref.digest ? `@${ref.digest}` : `:${ref.tag}`;
  const plat = [platform.os, platform.arch, platform.variant].filter(Boolean).join('-');
  const tag = `${ref.registry}/${ref.repository}${version}@${plat}`;
  const component = /^[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*$/;
  if (tag.split('/').every((part) => component.test(part))) return tag;
  const hex = createHash('sha256').update(tag).digest('hex');
  return `${ref.registry.replace(/[^A-Za-z0-9.]/g, '-')}/sha256-${hex}`;
}
