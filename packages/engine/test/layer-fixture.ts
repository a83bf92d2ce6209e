import type { Layer } from '../src/parse/types';

/**
 * A layer as the parser would produce it from `name: { from: { type: scratch } }` in
 * /work/stacker.yaml, with `over` replacing any field. For unit tests that need a Layer
 * without parsing a file.
 */
export function makeLayer(over: Partial<Layer> = {}): Layer {
  return {
    name: 'app',
    file: '/work/stacker.yaml',
    pos: { line: 1, column: 1 },
    from: { type: 'scratch', insecure: false },
    imports: [],
    legacyImport: false,
    overlayDirs: [],
    run: [],
    buildEnv: {},
    environment: [],
    volumes: [],
    labels: {},
    generateLabels: [],
    buildOnly: false,
    binds: [],
    annotations: {},
    os: 'linux',
    arch: 'amd64',
    directivePos: {},
    ...over,
  };
}
