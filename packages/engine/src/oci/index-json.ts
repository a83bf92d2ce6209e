import { readFileSync } from 'node:fs';
import { StackerError } from '../errors';
import { writeFileAtomic } from '../util/fs';
import { ANNOTATION_REF_NAME, type Descriptor, type ImageIndex, type Tag } from './types';

/**
 * index.json of an image layout: reading it, the tag rules stacker applies to it, and
 * replacing it atomically. Serialising writers is the caller's job (OciLayout holds a lock).
 */

/** The empty index a new layout starts with. */
export function emptyIndex(): ImageIndex {
  return { schemaVersion: 2, manifests: [] };
}

/** What to do about an index.json that cannot be read as one. */
const INDEX_HINT =
  "the OCI dir's index.json is damaged: restore it, or remove the OCI dir (or run " +
  "'clean') and build again";

/**
 * Reads and checks `path`. A missing `manifests` member is read as an empty list (some tools
 * omit it); anything that is not an index object is an error naming the file.
 */
export function readIndexFile(path: string): ImageIndex {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new StackerError(`couldn't read ${path}: ${(err as Error).message}`, { file: path });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new StackerError(
      `couldn't parse ${path}: ${(err as Error).message}`,
      { file: path },
      INDEX_HINT,
    );
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new StackerError(
      `${path} is not an OCI image index (not a JSON object)`,
      { file: path },
      INDEX_HINT,
    );
  }
  const index = parsed as Partial<ImageIndex>;
  if (index.manifests !== undefined && !Array.isArray(index.manifests)) {
    throw new StackerError(`${path} is not an OCI image index ("manifests" is not a list)`, {
      file: path,
    });
  }
  return { ...index, schemaVersion: 2, manifests: index.manifests ?? [] } as ImageIndex;
}

/** Replaces `path` so readers see the old or the new index, never a partial one. */
export function writeIndexFile(path: string, index: ImageIndex): void {
  writeFileAtomic(path, JSON.stringify(index));
}

/** The ref name (tag) of an index entry, if it has one. */
export function refName(descriptor: Descriptor): string | undefined {
  return descriptor.annotations?.[ANNOTATION_REF_NAME];
}

/** Every entry carrying a ref name, in index order. Entries without one are not tags. */
export function tagsOf(index: ImageIndex): Tag[] {
  const tags: Tag[] = [];
  for (const descriptor of index.manifests) {
    const name = refName(descriptor);
    if (name !== undefined) tags.push({ name, descriptor });
  }
  return tags;
}

/** The descriptor tagged `name`; the most recently added one if a foreign tool left several. */
export function findTag(index: ImageIndex, name: string): Descriptor | undefined {
  let found: Descriptor | undefined;
  for (const descriptor of index.manifests) {
    if (refName(descriptor) === name) found = descriptor;
  }
  return found;
}

/**
 * stacker's tag update: for each change in order, every entry named like it is removed and
 * the new entry is appended, so the index ends up ordered by last update. Entries with other
 * names (foreign tags, untagged entries) are kept where they are. Returns a new index.
 */
export function withTags(index: ImageIndex, changes: Tag[]): ImageIndex {
  let manifests = [...index.manifests];
  for (const { name, descriptor } of changes) {
    assertValidTagName(name);
    manifests = manifests.filter((d) => refName(d) !== name);
    manifests.push({
      ...descriptor,
      annotations: { ...descriptor.annotations, [ANNOTATION_REF_NAME]: name },
    });
  }
  return { ...index, manifests };
}

/** A new index without the entries named in `names`. */
export function withoutTags(index: ImageIndex, names: string[]): ImageIndex {
  const drop = new Set(names);
  return {
    ...index,
    manifests: index.manifests.filter((d) => !drop.has(refName(d) ?? '')),
  };
}

/** Whether the image-spec allows `name` as a ref name (see assertValidTagName). */
export function isValidTagName(name: string): boolean {
  const component = /^[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*$/;
  return name.length > 0 && name.split('/').every((part) => component.test(part));
}

/**
 * Ref names as the image-spec allows them (letters, digits, `-._:@/+`, and `--`), checked so
 * a name skopeo or umoci would refuse is caught when we write it, not when they read it.
 */
export function assertValidTagName(name: string): void {
  if (isValidTagName(name)) return;
  throw new StackerError(
    `refusing to update invalid reference "${name}"`,
    {},
    'tags may contain letters, digits and - . _ : @ + / (not at the start or end)',
  );
}
