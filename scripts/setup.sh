#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (as root) to build and test nx-stacker:
# Debian packages, npm dependencies, the TypeScript build and the native runner.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  lxc lxc-dev pkg-config gcc make libc6-dev  # the native runner and the containers it starts
  busybox-static                             # offline base images for the examples and tests
  umoci skopeo                               # independent checks of the OCI layouts we write
  squashfs-tools pigz attr git ca-certificates
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
