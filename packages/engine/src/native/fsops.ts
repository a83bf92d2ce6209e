import { StackerError } from '../errors';
import { loadExeca } from './execa';
import { runnerCommand, type UserNamespaceMap } from './runner';
import { RUNNER_LINE_PREFIX, runnerFailure } from './runner-messages';
import { runnerWarning } from './warnings';

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

/** The runner's warning lines start with this, after RUNNER_LINE_PREFIX. */
const WARNING_PREFIX = `${RUNNER_LINE_PREFIX}warning: `;

/**
 * Applies `ops` under `root` with one runner process. Every path is checked before anything
 * is written: absolute paths, '..' components and parents reached through a symlink are
 * refused with a StackerError and nothing changes. A system call failing later stops the
 * batch there (earlier operations stay applied). Does nothing for an empty list.
 * Where device nodes cannot be made (a user namespace), a device other than a whiteout
 * becomes an empty file and a warning goes to the runner warning handler (warnings.ts).
 * With `userns`, the runner enters that user namespace first (a non-root `check`).
 */
export async function applyFsOps(
  root: string,
  ops: FsOp[],
  opts: { userns?: UserNamespaceMap } = {},
): Promise<void> {
  if (ops.length === 0) return;
  const input = Buffer.concat(ops.flatMap(encodeOp));

  const { execa } = await loadExeca();
  const command = runnerCommand(['fsops', root], opts.userns);
  const result = await execa(command.file, command.args, {
    input,
    stdout: 'ignore',
    reject: false,
  });
  for (const line of result.stderr.split('\n')) {
    if (line.startsWith(WARNING_PREFIX)) runnerWarning(line.slice(WARNING_PREFIX.length));
  }
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
