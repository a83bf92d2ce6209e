import type { Location } from '../errors';
import type { Import, Layer, SourcePos } from '../parse/types';

/** Where an import is written, for errors: its stacker file, line, layer and path. */
export function importLocation({ layer, imp }: { layer?: Layer; imp: Import }): Location {
  return {
    file: layer?.file,
    line: imp.pos?.line,
    column: imp.pos?.column,
    layer: layer?.name,
    directive: layer?.legacyImport ? 'import' : 'imports',
    import: imp.path,
    step: 'imports',
  };
}

/**
 * Where an entry of a list directive (`binds`, `overlay_dirs`) is written, for errors: its
 * own line and column, or the directive's when the entry has none.
 */
export function entryLocation(
  layer: Layer,
  directive: 'binds' | 'overlay_dirs',
  pos: SourcePos | undefined,
): Location {
  const at = pos ?? layer.directivePos[directive];
  return { file: layer.file, line: at?.line, column: at?.column, layer: layer.name, directive };
}
