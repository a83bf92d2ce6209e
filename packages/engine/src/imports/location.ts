import type { Location } from '../errors';
import type { Import, Layer } from '../parse/types';

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
