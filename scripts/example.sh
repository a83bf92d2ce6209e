#!/usr/bin/env bash
# The main job: builds the example image through Nx and shows what came out.
#   1. `nx run hello:build`: this repository is an Nx workspace using its own plugin, so
#      examples/hello is a project whose layers are cached tasks; its base image (the busybox
#      project, made offline from Debian's busybox-static) is built first;
#   2. the same command again: every layer comes from Nx's cache, no container runs;
#   3. the result, read by independent tools (umoci, skopeo) and run in a chroot.
set -euo pipefail
cd "$(dirname "$0")/.."
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-1700000000}"
export NX_DAEMON="${NX_DAEMON:-false}" NX_NO_CLOUD=true NX_TUI="${NX_TUI:-false}"
image=dist/stacker/examples/hello/oci

echo "== nx run hello:build"
npx nx run hello:build

echo "== nx run hello:build, again (every layer from the cache)"
npx nx run hello:build

echo "== tags in $image (umoci ls)"
umoci ls --layout "$image"

echo "== hello's config (skopeo inspect --config)"
skopeo inspect --config "oci:$image:hello" |
  node -e 'const c = JSON.parse(require("fs").readFileSync(0, "utf8"));
    console.log(JSON.stringify({ config: c.config, layers: c.rootfs.diff_ids.length }, null, 2));'

echo "== running /usr/local/bin/hello from the unpacked image"
bundle="$(mktemp -d)"
trap 'rm -rf "$bundle"' EXIT
umoci unpack --image "$image:hello" "$bundle/hello" >/dev/null
chroot "$bundle/hello/rootfs" /usr/bin/env GREETING="Hello from an nx-stacker image" /usr/local/bin/hello
