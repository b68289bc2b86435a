#!/usr/bin/env bash
# Prepares what `docker compose build` reads, and writes it to .env (which compose loads by itself):
#  - NODE_IMAGE / NGINX_IMAGE: the official images when present or pullable, otherwise bases built
#    locally from Debian packages. Set either variable yourself to use another base.
#  - APP_UID / APP_GID: the unprivileged user nginx and the web app run as; it must be able to read
#    the mounted private keys (mode 0600).
#  - .build/extra-ca.pem: an extra CA bundle for npm inside the build, for networks whose proxy
#    intercepts TLS. From EXTRA_CA_CERTS, else the host's NODE_EXTRA_CA_CERTS; empty when neither.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
root=$(cd "$here/.." && pwd)

official_node=node:24-trixie-slim
official_nginx=nginx:1.30

# Sets $base to the image to build on. Not called inside $(...): a failed base build must stop
# this script here, before .env names an image that does not exist.
choose_base() { # kind official local
  local kind=$1 official=$2 fallback=$3
  base=$official
  docker image inspect "$official" >/dev/null 2>&1 && return
  local bounded=(); command -v timeout >/dev/null 2>&1 && bounded=(timeout "${PULL_TIMEOUT:-300}")
  ${bounded[@]+"${bounded[@]}"} docker pull --quiet "$official" >/dev/null 2>&1 && return
  base=$fallback
  docker image inspect "$fallback" >/dev/null 2>&1 && return
  say "$official cannot be pulled here; using a $kind base built from Debian packages instead"
  bash "$here/build-local-base.sh" "$kind" "$fallback" || die "the $kind base image could not be built (see the line above); nothing was written to .env."
}

if [ -n "${NODE_IMAGE:-}" ]; then node_image=$NODE_IMAGE; else choose_base node "$official_node" dice-stack/node-base:24; node_image=$base; fi
if [ -n "${NGINX_IMAGE:-}" ]; then nginx_image=$NGINX_IMAGE; else choose_base nginx "$official_nginx" dice-stack/nginx-base:1.30-njs; nginx_image=$base; fi

# Run containers as yourself, so they read the keys you own; root gets a dedicated unprivileged id
# instead, and make-certs.sh hands the keys to it.
if is_root; then app_uid=${APP_UID:-10001}; app_gid=${APP_GID:-10001}
else app_uid=${APP_UID:-$(id -u)}; app_gid=${APP_GID:-$(id -g)}; fi

mkdir -p "$root/.build"
extra_ca=${EXTRA_CA_CERTS:-${NODE_EXTRA_CA_CERTS:-}}
if [ -n "$extra_ca" ]; then
  [ -r "$extra_ca" ] || die "EXTRA_CA_CERTS/NODE_EXTRA_CA_CERTS names $extra_ca, which cannot be read."
  cp "$extra_ca" "$root/.build/extra-ca.pem"
else
  : >"$root/.build/extra-ca.pem"
fi

# Rewrite our four keys and keep any other lines of an existing .env.
managed='^(NODE_IMAGE|NGINX_IMAGE|APP_UID|APP_GID)=|^# Written by scripts/prepare-build.sh'
{
  echo "# Written by scripts/prepare-build.sh (make env); set these in your environment to override."
  echo "NODE_IMAGE=$node_image"
  echo "NGINX_IMAGE=$nginx_image"
  echo "APP_UID=$app_uid"
  echo "APP_GID=$app_gid"
  # grep exits 1 when no other line is left, which is fine; 2 is a real error and stops here.
  if [ -f "$root/.env" ]; then grep -Ev "$managed" "$root/.env" || [ $? = 1 ]; fi
} >"$root/.env.tmp"
mv "$root/.env.tmp" "$root/.env"
say "bases: $node_image, $nginx_image; containers run as uid $app_uid"
