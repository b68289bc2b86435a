#!/bin/sh
# Renders the edge's token into $EDGE_SETTINGS_DIR/edge-token.conf, the grpc_set_header that
# snippets/grpc-proxy.conf includes: the first token of EDGE_TOKEN_FILE (one per line; the server
# accepts every line, so a rotation adds the new token second, puts it first, then drops the old).
# Run by render-edge-settings.sh at start and by watch-certificates.sh when the file changes; the
# file is replaced whole, so a reload never reads half of it. Exits 64 with one line when the file
# cannot be used, leaving the rendered file as it was.
set -eu
fail() { echo "nginx: configuration error: $1" >&2; exit 64; }

[ -r "$EDGE_TOKEN_FILE" ] || fail "EDGE_TOKEN_FILE points to $EDGE_TOKEN_FILE, which cannot be read: mount the edge token file the server reads too (make certs writes certs/edge-token)"
token=$(sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' "$EDGE_TOKEN_FILE" | grep -v -e '^#' -e '^$' | head -n 1 || :)
[ -n "$token" ] || fail "EDGE_TOKEN_FILE ($EDGE_TOKEN_FILE) names no token"
printf '%s\n' "$token" | grep -Eq '^[A-Za-z0-9._~+/=-]{32,512}$' || fail "EDGE_TOKEN_FILE ($EDGE_TOKEN_FILE): its first token is not 32 to 512 letters, digits or ._~+/=- (make certs writes one: openssl rand -hex 32)"

mkdir -p "$EDGE_SETTINGS_DIR"
rendered="$EDGE_SETTINGS_DIR/edge-token.conf"
{
  echo "# Rendered by render-edge-token.sh from EDGE_TOKEN_FILE; a secret: never print this file."
  echo "grpc_set_header x-dice-edge-token \"$token\";"
} >"$rendered.new"
mv "$rendered.new" "$rendered"
