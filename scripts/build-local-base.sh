#!/usr/bin/env bash
# Builds a base image from Debian packages, for machines that cannot pull the official images
# (air-gapped, or no container registry). Usage: build-local-base.sh node|nginx IMAGE_NAME
#   node:  Debian forky's nodejs 24, npm from the npm registry, user "node" (uid 1000), like node:24-slim
#   nginx: Debian forky's nginx 1.30 with its njs module, user "nginx" (uid 101), like nginx:1.30
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
kind=${1:?usage: build-local-base.sh node|nginx IMAGE}
image=${2:?usage: build-local-base.sh node|nginx IMAGE}
suite=${LOCAL_BASE_SUITE:-forky}

if ! command -v mmdebstrap >/dev/null 2>&1; then
  if is_root && is_debian; then apt_install mmdebstrap
  else die "mmdebstrap is needed to build a local base image (apt-get install mmdebstrap), or make $kind's official image pullable."; fi
fi
mirror=$(debian_mirror)
[ -n "$mirror" ] || die "No Debian mirror found in /etc/apt to build a local base image from."

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
hooks=()
case "$kind" in
  node)
    packages=ca-certificates,nodejs
    # Debian's own npm package drags in hundreds of packages; the official images ship npm from the
    # npm registry, so do the same.
    (cd "$tmp" && npm pack --silent "npm@${LOCAL_BASE_NPM:-11}" >/dev/null) || die "Could not fetch npm from the npm registry."
    hooks+=(--customize-hook="mkdir -p \"\$1/usr/local/lib/node_modules/npm\" && tar -xzf $tmp/npm-*.tgz -C \"\$1/usr/local/lib/node_modules/npm\" --strip-components=1"
            --customize-hook='ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm" && ln -s ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"'
            --customize-hook='chroot "$1" useradd --uid 1000 --user-group --create-home --shell /bin/bash node')
    ;;
  nginx)
    # njs runs the edge's authorization (nginx/njs/access-policy.js); the official image has it too.
    packages=ca-certificates,nginx,libnginx-mod-http-js
    hooks+=(--customize-hook='chroot "$1" useradd --system --uid 101 --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin nginx'
            --customize-hook='rm -f "$1"/etc/nginx/sites-enabled/*')
    ;;
  *) die "unknown base kind '$kind' (node or nginx)" ;;
esac

say "building $image from Debian $suite packages ($packages); this takes under a minute"
# A snapshot mirror's Release file may be past its Valid-Until date; the signature is still checked.
mmdebstrap --quiet --variant=minbase --include="$packages" \
  --aptopt='Acquire::Check-Valid-Until "false"' \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
  "${hooks[@]}" "$suite" "$tmp/rootfs.tar" "$mirror" >&2 || die "mmdebstrap could not build the $kind base from Debian $suite."
case "$kind" in
  node) changes=(--change 'ENV NODE_VERSION=24' --change 'CMD ["node"]') ;;
  nginx) changes=(--change 'CMD ["nginx", "-g", "daemon off;"]') ;;
esac
docker import "${changes[@]}" --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  "$tmp/rootfs.tar" "$image" >/dev/null || die "docker import of the $kind base failed."
say "built $image"
