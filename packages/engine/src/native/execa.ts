/**
 * execa, loaded with a dynamic import. A static `import { execa } from 'execa'` compiles to
 * require(), which plain Node 20 handles, but tsx's require hook (the tests and
 * `--conditions=nx-stacker-source` runs) resolves execa's ESM-only dependencies with the
 * "require" condition and fails (ERR_PACKAGE_PATH_NOT_EXPORTED for unicorn-magic).
 */
export async function loadExeca(): Promise<typeof import('execa')> {
  return import('execa');
}
