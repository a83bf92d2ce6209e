import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, type TestContext, test } from 'node:test';
import { buildIn, busyboxLayout, projectDir, requireRoot, umociUnpack } from '../helpers';
import { clientEnv, seed, startRegistry, type TestRegistry } from './fixtures';

let mirror: TestRegistry;
let primary: TestRegistry;
let workDir: string;

before(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'nx-stacker-mirrors-'));
  mirror = await startRegistry();
  primary = await startRegistry();
  const busybox = await busyboxLayout();
  await seed({ layout: busybox, tag: 'busybox', registry: mirror, dest: 'hub/team/busybox:1.0' });
  await seed({ layout: busybox, tag: 'busybox', registry: primary, dest: 'team/busybox:1.0' });
});

after(async () => {
  await mirror?.stop();
  await primary?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

/** An env whose registries.conf says `conf`. */
function confEnv(t: TestContext, conf: string): NodeJS.ProcessEnv {
  const file = join(mkdtempSync(join(tmpdir(), 'nx-stacker-regconf-')), 'registries.conf');
  t.after(() => rmSync(join(file, '..'), { recursive: true, force: true }));
  writeFileSync(file, conf);
  return clientEnv(workDir, undefined, { CONTAINERS_REGISTRIES_CONF: file });
}

function project(t: TestContext, url: string): string {
  return projectDir(t, {
    'stacker.yaml': `
app:
  from: {type: docker, url: "${url}"}
  run: echo ok > /ok
`,
  });
}

test('a registries.conf mirror serves a registry that cannot be reached', async (t) => {
  if (!requireRoot(t)) return;
  // images.corp.test resolves nowhere: only the mirror can give its images.
  const env = confEnv(
    t,
    `
[[registry]]
location = "images.corp.test"
[[registry.mirror]]
location = "${mirror.host}/hub"
insecure = true
`,
  );
  await mirror.clearLog();
  const dir = project(t, 'docker://images.corp.test/team/busybox:1.0');
  await buildIn(dir, { env });
  assert.equal(readFileSync(join(umociUnpack(t, join(dir, 'oci'), 'app'), 'ok'), 'utf8'), 'ok\n');
  const served = await mirror.served();
  assert.ok(served.some((r) => r.path === '/v2/hub/team/busybox/manifests/1.0'));
});

test("a mirror without the image hands over to the registry's location", async (t) => {
  if (!requireRoot(t)) return;
  const env = confEnv(
    t,
    `
[[registry]]
prefix = "images.corp.test"
location = "${primary.host}"
insecure = true
[[registry.mirror]]
location = "${mirror.host}/elsewhere"
insecure = true
`,
  );
  const dir = project(t, 'docker://images.corp.test/team/busybox:1.0');
  const { log } = await buildIn(dir, { env });
  assert.match(log.text(), new RegExp(`mirror ${mirror.host}/elsewhere could not give .*trying`));
  assert.equal(readFileSync(join(umociUnpack(t, join(dir, 'oci'), 'app'), 'ok'), 'utf8'), 'ok\n');
});
