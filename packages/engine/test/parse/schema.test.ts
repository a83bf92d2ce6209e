// docs/stacker.schema.json (for editors) lists the keys the parser accepts, no more, no less.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FROM_KEYS } from '../../src/parse/from';
import { IMPORT_KEYS } from '../../src/parse/imports';
import { DIRECTIVES } from '../../src/parse/layer';

interface Schema {
  properties?: Record<string, Schema>;
  definitions?: Record<string, Schema>;
  items?: Schema;
  anyOf?: Schema[];
  $ref?: string;
}

const schema = JSON.parse(
  readFileSync(join(__dirname, '../../../../docs/stacker.schema.json'), 'utf8'),
) as Schema;
const defs = schema.definitions ?? {};
const layer = defs.layer?.properties ?? {};
const keys = (s: Schema | undefined) => Object.keys(s?.properties ?? {}).sort();
const mapItem = (s: Schema | undefined) => s?.items?.anyOf?.find((a) => a.properties) ?? s?.items;

test('a layer has exactly the directives the parser knows', () => {
  assert.deepEqual(Object.keys(layer).sort(), [...DIRECTIVES].sort());
});

test("from, import, bind and overlay_dirs entries have the parser's keys", () => {
  assert.deepEqual(keys(layer.from), [...FROM_KEYS].sort());
  assert.deepEqual(keys(defs.import?.anyOf?.find((a) => a.properties)), [...IMPORT_KEYS].sort());
  assert.deepEqual(keys(mapItem(layer.binds)), ['dest', 'hash', 'source']);
  assert.deepEqual(keys(mapItem(layer.overlay_dirs)), ['dest', 'source']);
});

test('every $ref points at a definition', () => {
  const refs = JSON.stringify(schema).match(/"#\/definitions\/[a-zA-Z]+"/g) ?? [];
  for (const ref of refs) assert.ok(defs[ref.slice(15, -1)], ref);
});
