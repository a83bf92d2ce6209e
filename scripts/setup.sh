#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (as root) to build and test nx-stacker:
# Debian packages, npm dependencies, the TypeScript build and the native runner.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian 12's own nodejs is 18; nx-stacker needs Node 20.19+ (or 22.12+) and npm.
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number);
  process.exit((a === 20 && b >= 19) || (a === 22 && b >= 12) || a > 22 ? 0 : 1)' 2>/dev/null; then
  found=$(node --version 2>/dev/null || echo none)
  echo "setup: Node.js 20.19 or later is needed (found: $found)" >&2
  echo "setup: install it (NodeSource, nvm, a Node tarball), then run this again" >&2
  exit 1
fi

packages=(
  lxc lxc-dev pkg-config gcc make libc6-dev  # the native runner and the containers it starts
  busybox-static                             # offline base images for the examples and tests
  umoci skopeo                               # independent checks of the OCI layouts we write
  squashfs-tools pigz attr git ca-certificates
  zstd xz-utils bzip2                        # zstd layers; tar bases compressed these ways
  erofs-utils cryptsetup-bin                 # --layer-type erofs; verity data (veritysetup)
  docker-registry apache2-utils openssl      # registry, htpasswd and certificates for the tests
  debootstrap                                # npm run bench: the Debian base it measures on
  uidmap                                     # rootless builds: newuidmap and newgidmap
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "setup: installing npm dependencies"
npm ci --no-audit --no-fund --loglevel=error

echo "setup: building the engine, the CLI and the native runner"
npm run build --silent
echo "setup: done (nx-stacker is node_modules/.bin/nx-stacker)"
