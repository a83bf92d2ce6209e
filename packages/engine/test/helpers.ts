import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { TestContext } from 'node:test';
import { writeBusyboxImage } from '../src/bases/busybox';
import { StackerError } from '../src/errors';
import { type BuildOptions, build } from '../src/index';
import { memoryLogger } from '../src/log';

/**
 * Integration tests need root (overlayfs mounts, LXC). Outside CI they are skipped with a
 * reason when not root; in CI (CI=true, always root) a missing privilege is a failure.
 */
export function requireRoot(t: TestContext): boolean {
  if (process.geteuid?.() === 0) return true;
  if (process.env.CI) throw new Error('integration tests must run as root in CI');
  t.skip('needs root (overlayfs and LXC)');
  return false;
}

/** A temp dir removed after the test. */
export function tempDir(t: TestContext, prefix = 'nx-stacker-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes files (path -> content) under `root`, creating directories. */
export function writeFiles(root: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}

/** A temp dir holding `files` (path -> content), removed after the test. */
export function projectDir(t: TestContext, files: Record<string, string>): string {
  const dir = tempDir(t);
  writeFiles(dir, files);
  return dir;
}

let baseLayout: string | undefined;

/**
 * An OCI layout holding the busybox base image as `busybox`, made once per test process by
 * the project's own code from Debian's busybox-static. Treat it as read-only.
 */
export async function busyboxLayout(): Promise<string> {
  if (!baseLayout) {
    const dir = mkdtempSync(join(tmpdir(), 'nx-stacker-base-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    await writeBusyboxImage({ ociDir: join(dir, 'oci'), tag: 'busybox' });
    baseLayout = join(dir, 'oci');
  }
  return baseLayout;
}

/** The `from:` lines of a top-level layer on the busybox image, to splice into stacker YAML. */
export async function fromBusybox(): Promise<string> {
  return `  from:\n    type: oci\n    url: ${await busyboxLayout()}:busybox`;
}

/** The StackerError `promise` rejects with; fails the test if it resolves or throws another. */
export async function errorOf(promise: Promise<unknown>): Promise<StackerError> {
  const err = await promise.then(
    () => assert.fail('build should fail'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof StackerError, `not a StackerError: ${(err as Error)?.stack ?? err}`);
  return err;
}

/**
 * Runs the engine in `dir` with stacker's default dirs there; returns the summary, the log and
 * the OCI layout the images went to.
 */
export async function buildIn(dir: string, opts: Partial<BuildOptions> = {}) {
  const log = memoryLogger();
  const summary = await build({
    stackerFiles: ['stacker.yaml'],
    cwd: dir,
    log,
    env: { SOURCE_DATE_EPOCH: '1700000000' },
    ...opts,
  });
  return { summary, log, oci: resolve(dir, opts.ociDir ?? 'oci') };
}

/** `umoci unpack` of `oci:<tag>` into a fresh bundle; returns the rootfs path. */
export function umociUnpack(t: TestContext, ociDir: string, tag: string): string {
  const bundle = join(tempDir(t, 'nx-stacker-bundle-'), 'bundle');
  execFileSync('umoci', ['unpack', '--image', `${ociDir}:${tag}`, bundle], { stdio: 'pipe' });
  return join(bundle, 'rootfs');
}

/** `skopeo inspect --config` of `oci:<dir>:<tag>`, parsed. */
export function skopeoConfig(
  ociDir: string,
  tag: string,
): {
  config?: {
    Env?: string[];
    Cmd?: string[];
    Entrypoint?: string[];
    Labels?: Record<string, string>;
  };
  rootfs: { diff_ids: string[] };
  history?: { created_by?: string }[];
} {
  const out = execFileSync('skopeo', ['inspect', '--config', `oci:${ociDir}:${tag}`]);
  return JSON.parse(out.toString());
}

/** `skopeo inspect --raw` (the manifest) of `oci:<dir>:<tag>`, parsed. */
export function skopeoManifest(
  ociDir: string,
  tag: string,
): {
  layers: { digest: string; mediaType: string }[];
  annotations?: Record<string, string>;
} {
  const out = execFileSync('skopeo', ['inspect', '--raw', `oci:${ociDir}:${tag}`]);
  return JSON.parse(out.toString());
}

/** The manifests index.json lists, each with its tag (`undefined` when untagged). */
export function indexEntries(ociDir: string): { digest: string; tag?: string }[] {
  const index = JSON.parse(readFileSync(join(ociDir, 'index.json'), 'utf8')) as {
    manifests: { digest: string; annotations?: Record<string, string> }[];
  };
  return index.manifests.map((m) => ({
    digest: m.digest,
    tag: m.annotations?.['org.opencontainers.image.ref.name'],
  }));
}

/** The digest index.json gives `tag`, read straight from the file. */
export function tagDigest(ociDir: string, tag: string): string | undefined {
  return indexEntries(ociDir).find((m) => m.tag === tag)?.digest;
}

/** The path of blob `digest` (`sha256:<hex>`) in the layout `ociDir`. */
export function blobPath(ociDir: string, digest: string): string {
  return join(ociDir, 'blobs', 'sha256', digest.replace('sha256:', ''));
}

/** A layer descriptor as a manifest lists it. */
export interface LayerDesc {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

/** The manifest of `tag`, or of a manifest digest (`sha256:…`), read straight from the files. */
export function readManifest(
  ociDir: string,
  tagOrDigest: string,
): { layers: LayerDesc[]; config: { digest: string }; annotations?: Record<string, string> } {
  const digest = tagOrDigest.startsWith('sha256:') ? tagOrDigest : tagDigest(ociDir, tagOrDigest);
  if (!digest) throw new Error(`no image ${tagOrDigest} in ${ociDir}`);
  return JSON.parse(readFileSync(blobPath(ociDir, digest), 'utf8'));
}

/** Mount points under `dir` still present in this mount namespace. */
export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((p) => p.startsWith(dir));
}

/** A CLI run in a test that takes longer than this has hung: it is killed and fails. */
const CLI_TIMEOUT_MS = 10 * 60_000;

/** Runs the CLI (built JS) with `args` in `cwd`, `input` on its stdin (a pipe). */
export function runCli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}, input = '') {
  const bin = join(__dirname, '../../cli/bin/nx-stacker.js');
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd,
    input,
    env: { ...process.env, SOURCE_DATE_EPOCH: '1700000000', ...env },
    encoding: 'utf8',
    timeout: CLI_TIMEOUT_MS,
    killSignal: 'SIGKILL',
  });
  const hung = r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT';
  const stderr = hung
    ? `${r.stderr}\n(killed: still running after ${CLI_TIMEOUT_MS} ms)`
    : r.stderr;
  return { status: r.status, stdout: r.stdout, stderr };
}
