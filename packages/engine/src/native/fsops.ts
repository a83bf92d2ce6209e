import { StackerError } from '../errors';
import { loadExeca } from './execa';
import { runnerExecutable } from './runner';
import { runnerFailure } from './runner-messages';

/**
 * A file system operation Node cannot do. Paths are relative to the root given to
 * applyFsOps ('.' is the root itself, for setxattr only).
 * - mknod: a device node or FIFO; `mode` is the permission bits (no umask applied). An
 *   overlay whiteout is `{ kind: 'c', major: 0, minor: 0, mode: 0 }`. An existing
 *   non-directory at `path` is replaced; a directory there is an error.
 * - setxattr: on the entry itself, never through a final symlink. user.* xattrs on anything
 *   but regular files and directories cannot exist on Linux and are skipped.
 */
export type FsOp =
  | { op: 'mknod'; path: string; mode: number; kind: 'c' | 'b' | 'p'; major: number; minor: number }
  | { op: 'setxattr'; path: string; name: string; value: Buffer };

/**
 * Applies `ops` under `root` with one runner process. Every path is checked before anything
 * is written: absolute paths, '..' components and parents reached through a symlink are
 * refused with a StackerError and nothing changes. A system call failing later stops the
 * batch there (earlier operations stay applied). Does nothing for an empty list.
 */
export async function applyFsOps(root: string, ops: FsOp[]): Promise<void> {
  if (ops.length === 0) return;
  const input = Buffer.concat(ops.flatMap(encodeOp));

  const { execa } = await loadExeca();
  const result = await execa(runnerExecutable(), ['fsops', root], {
    input,
    stdout: 'ignore',
    reject: false,
  });
  if (result.exitCode === 0) return;

  const lines = result.stderr.split('\n');
  const failure = runnerFailure({ exitCode: result.exitCode, stderrLines: lines });
  throw (
    failure ??
    new StackerError(`applying file system operations under ${root} failed: ${result.message}`)
  );
}

/** The NUL-terminated fields of one operation, as `nx-stacker-runner fsops` reads them. */
function encodeOp(op: FsOp): Buffer[] {
  if (op.op === 'mknod') {
    for (const n of [op.mode, op.major, op.minor]) checkNumber(n, op.path);
    return fields(['mknod', op.path, op.mode.toString(8), op.kind, `${op.major}`, `${op.minor}`]);
  }
  return fields(['setxattr', op.path, op.name, op.value.toString('hex')]);
}

/** Each field followed by a NUL; a NUL inside a field cannot be encoded and is refused. */
function fields(values: string[]): Buffer[] {
  return values.map((value) => {
    if (value.includes('\0')) {
      throw new StackerError(`file system operation field ${JSON.stringify(value)} has a NUL byte`);
    }
    return Buffer.from(`${value}\0`);
  });
}

function checkNumber(n: number, path: string): void {
  if (!Number.isInteger(n) || n < 0) {
    throw new StackerError(`mknod ${path}: ${n} is not a valid mode or device number`);
  }
}
