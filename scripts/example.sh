#!/usr/bin/env bash
# The main job: builds the example image and shows what came out.
#   1. the busybox base image, made offline from Debian's busybox-static;
#   2. examples/hello, layer by layer (a second run reuses every layer);
#   3. the result, read by independent tools (umoci, skopeo) and run in a chroot.
set -euo pipefail
cd "$(dirname "$0")/.."
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-1700000000}"
nx_stacker="$PWD/node_modules/.bin/nx-stacker"

echo "== base image"
node scripts/make-base-image.mjs examples/busybox/oci busybox

echo "== building examples/hello"
(cd examples/hello && "$nx_stacker" build)

echo "== tags in examples/hello/oci (umoci ls)"
umoci ls --layout examples/hello/oci

echo "== hello's config (skopeo inspect --config)"
skopeo inspect --config oci:examples/hello/oci:hello |
  node -e 'const c = JSON.parse(require("fs").readFileSync(0, "utf8"));
    console.log(JSON.stringify({ config: c.config, layers: c.rootfs.diff_ids.length }, null, 2));'

echo "== running /usr/local/bin/hello from the unpacked image"
bundle="$(mktemp -d)"
trap 'rm -rf "$bundle"' EXIT
umoci unpack --image examples/hello/oci:hello "$bundle/hello" >/dev/null
chroot "$bundle/hello/rootfs" /usr/bin/env GREETING="Hello from an nx-stacker image" /usr/local/bin/hello
