/**
 * Project names and roots as Nx will see them, found from the files on disk. Inference runs
 * before Nx has merged any project, so it reads project.json and package.json itself.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, posix, relative, sep } from 'node:path';

/** A project that owns a path: its root (workspace-relative, posix) and name. */
export interface ProjectRef {
  root: string;
  name: string;
}

/** Files that make a directory a project root. */
const MARKERS = ['project.json', 'package.json', 'stacker.yaml'];

/**
 * Looks up project names and owners under one workspace root, remembering what it read, so a
 * whole createNodes call reads each project.json or package.json once.
 */
export class ProjectLookup {
  private readonly names = new Map<string, string>();
  private readonly owners = new Map<string, ProjectRef | null>();

  constructor(readonly workspaceRoot: string) {}

  /**
   * The name of the project rooted at `root`: the `name` of its project.json, else of its
   * package.json, else one made from its path (`images/web` -> `images-web`; the workspace
   * root takes the workspace directory's name).
   */
  nameOf(root: string): string {
    let name = this.names.get(root);
    if (name === undefined) {
      const dir = join(this.workspaceRoot, root);
      name =
        readName(join(dir, 'project.json')) ??
        readName(join(dir, 'package.json')) ??
        pathName(root, this.workspaceRoot);
      this.names.set(root, name);
    }
    return name;
  }

  /**
   * The project owning the absolute `path`: the nearest directory at or above it, below the
   * workspace root, holding a project.json, package.json or stacker.yaml. Undefined for paths
   * outside the workspace and for paths only the workspace root could own (a root project
   * owning everything would make every image depend on it).
   */
  ownerOf(path: string): ProjectRef | undefined {
    const rel = relative(this.workspaceRoot, path);
    if (rel === '' || rel.startsWith('..') || rel.startsWith(sep)) return undefined;
    return this.ownerOfRelative(rel.split(sep).join('/')) ?? undefined;
  }

  private ownerOfRelative(rel: string): ProjectRef | null {
    if (rel === '.' || rel === '') return null;
    const cached = this.owners.get(rel);
    if (cached !== undefined) return cached;
    const dir = join(this.workspaceRoot, rel);
    const owner = MARKERS.some((m) => existsSync(join(dir, m)))
      ? { root: rel, name: this.nameOf(rel) }
      : this.ownerOfRelative(posix.dirname(rel));
    this.owners.set(rel, owner);
    return owner;
  }
}

/** The `name` field of a JSON file, when the file exists and has one. */
function readName(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const name = (JSON.parse(text) as { name?: unknown }).name;
    return typeof name === 'string' && name !== '' ? name : undefined;
  } catch {
    // A broken project.json is reported by Nx itself; fall back to the path name.
    return undefined;
  }
}

function pathName(root: string, workspaceRoot: string): string {
  if (root === '.' || root === '') return basename(workspaceRoot);
  return root.split('/').join('-');
}

/** The project root of a stacker file given relative to the workspace root. */
export function rootOf(stackerFile: string): string {
  return posix.dirname(stackerFile.split(sep).join('/'));
}
