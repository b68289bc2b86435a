#!/usr/bin/env bash
# Prints the bin directory of a Node.js >= 24 to put first on PATH. Uses the one on PATH when it is
# new enough; otherwise installs the official Node 24 binary from the npm registry (package node@24)
# into .tools/node of this checkout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
root=$(cd "$here/.." && pwd)
want=24
local_dir="$root/.tools/node"

major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if command -v node >/dev/null 2>&1 && [ "$(major node)" -ge "$want" ]; then
  dirname "$(command -v node)"; exit 0
fi
if [ -x "$local_dir/bin/node" ] && [ "$(major "$local_dir/bin/node")" -ge "$want" ]; then
  echo "$local_dir/bin"; exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  if is_root && is_debian; then apt_install nodejs npm
  else die "Node.js $want is needed and npm is not installed to fetch it: install Node.js $want (https://nodejs.org), then run this again."; fi
fi
say "installing Node.js $want into .tools/node (the machine's node is $(node --version 2>/dev/null || echo missing))"
npm install --global --prefix "$local_dir" --no-fund --no-audit --loglevel=error "node@$want" >&2 ||
  die "Could not install node@$want from the npm registry."
# The node package links bin/node to its platform binary; npm itself comes along with that binary.
"$local_dir/bin/node" --version >/dev/null || die "The installed node@$want does not run."
echo "$local_dir/bin"
