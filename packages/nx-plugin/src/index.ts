/**
 * The nx-stacker Nx plugin. A workspace registers it in nx.json as `"plugin": "nx-stacker"`;
 * every stacker.yaml then becomes a project whose layers are cached tasks (see docs/nx.md).
 */
import { createNodes } from './inference/create-nodes';

export { createDependencies } from './graph/create-dependencies';
export { createNodes };
/** The same function under the name Nx 22 and 23 look for first. */
export const createNodesV2 = createNodes;
export type { BuildExecutorOptions } from './executors/build/options';
export type { StackerPluginOptions } from './options';
