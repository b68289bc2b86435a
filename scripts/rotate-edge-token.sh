#!/usr/bin/env bash
# Replaces the edge token (certs/edge-token: the secret the edge adds to every call and the server
# requires) without failing a call, in three writes of the one file both read:
#   1. old, new   the server accepts both; the edge still sends the old one
#   2. new, old   the edge sends the new one; the server still accepts the old
#   3. new        the old token is gone
# Between the steps it waits until every running server replica has re-read the file and nginx has
# reloaded (their logs say so), so no call carries a token the server does not accept. With no
# stack running it writes the new token at once.
#   CERTS_DIR            as for make-certs.sh
#   COMPOSE_PROJECT_NAME the running stack (compose's own variable)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
dir=$(existing_pki_dir edge-token "There is no edge token")
. "$here/pki-lib.sh"

old=$(grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$dir/edge-token" | head -n 1)
new=$(new_edge_token)
replicas=$(running_replicas server)

if [ "$replicas" -eq 0 ]; then
  write_edge_token "$new"
  say "no server is running: wrote a new edge token; the edge and the server read it when they start"
  exit 0
fi

step() { # what tokens...
  local since
  since=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
  write_edge_token "${@:2}"
  say "$1: waiting until the $replicas server replica(s) have re-read the file and nginx has reloaded"
  wait_for_log server 'edge token file changed: the tokens it names are accepted now' "$replicas" "$since" "every server replica re-reading the edge token file" "the file holds both tokens, so no call fails meanwhile"
  wait_for_log nginx 'certificate files changed; reloading nginx' 1 "$since" "nginx reloading with the edge token file" "the file holds both tokens, so no call fails meanwhile"
}

step "step 1 of 3: the new token added beside the old one" "$old" "$new"
step "step 2 of 3: the edge sends the new token" "$new" "$old"
step "step 3 of 3: the old token removed" "$new"
say "the edge token is replaced; no call was refused for it"
