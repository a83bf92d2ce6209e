import type { CreateNodes } from '@nx/devkit';
import { normalizeOptions, type StackerPluginOptions } from '../options';
import { inferProjects } from './projects';

/** The stacker files the plugin turns into projects; nx.json's include/exclude narrow it. */
export const STACKER_FILE_GLOB = '**/stacker.yaml';

/**
 * Nx calls this once per project-graph computation with every matching file. A problem in
 * one file is logged (file, line, reason) and that file's project fails to build; the
 * others, and every Nx command, keep working.
 */
export const createNodes: CreateNodes<StackerPluginOptions> = [
  STACKER_FILE_GLOB,
  (files, options, context) =>
    inferProjects({
      files,
      workspaceRoot: context.workspaceRoot,
      options: normalizeOptions(options),
      // console, not the devkit's logger: loading @nx/devkit would add a third of a second
      // to every Nx command's plugin start; Nx shows a plugin worker's stderr either way.
      warn: (message) => console.warn(`nx-stacker: ${message}`),
    }),
];
