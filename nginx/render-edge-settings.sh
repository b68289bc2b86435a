#!/bin/sh
# Entrypoint: turns the EDGE_* environment into nginx directives, then runs the command. Three files
# next to each other: edge-settings.conf (http level), main-settings.conf (top level) and
# upstream-settings.conf (inside the upstream block), all included by the shipped configuration.
# A bad value stops the container with one line naming the variable.
set -eu

fail() { echo "nginx: configuration error: $1" >&2; exit 64; }

rate=${EDGE_RATE_LIMIT:-1000r/s}
burst=${EDGE_RATE_BURST:-2000}
size=${EDGE_MAX_REQUEST_SIZE:-64k}
timeout=${EDGE_UPSTREAM_TIMEOUT:-30s}
workers=${EDGE_WORKER_PROCESSES:-auto}
upstream_keepalive=${EDGE_UPSTREAM_KEEPALIVE:-32}
keepalive_requests=${EDGE_KEEPALIVE_REQUESTS:-100000}

echo "$rate" | grep -Eq '^(off|[1-9][0-9]*r/[sm])$' || fail "EDGE_RATE_LIMIT must be a rate like 1000r/s or 600r/m, or off (got '$rate')"
echo "$burst" | grep -Eq '^[0-9]+$' || fail "EDGE_RATE_BURST must be a whole number of requests (got '$burst')"
echo "$size" | grep -Eq '^[1-9][0-9]*[kKmM]?$' || fail "EDGE_MAX_REQUEST_SIZE must be a size like 64k or 4m (got '$size')"
echo "$timeout" | grep -Eq '^[1-9][0-9]*(ms|s|m)$' || fail "EDGE_UPSTREAM_TIMEOUT must be a duration like 30s or 500ms (got '$timeout')"
echo "$workers" | grep -Eq '^(auto|[1-9][0-9]*)$' || fail "EDGE_WORKER_PROCESSES must be auto or a number of processes (got '$workers')"
echo "$upstream_keepalive" | grep -Eq '^[0-9]+$' || fail "EDGE_UPSTREAM_KEEPALIVE must be a number of idle connections to keep per worker, 0 for none (got '$upstream_keepalive')"
echo "$keepalive_requests" | grep -Eq '^[1-9][0-9]*$' || fail "EDGE_KEEPALIVE_REQUESTS must be a number of calls per connection (got '$keepalive_requests')"

out=${EDGE_SETTINGS_FILE:-/tmp/nginx/edge-settings.conf}
dir=$(dirname "$out")
mkdir -p "$dir"
header="# Rendered by render-edge-settings.sh at container start; change the EDGE_* variables instead."
{
  echo "$header"
  echo "worker_processes $workers;"
} >"$dir/main-settings.conf"
{
  echo "$header"
  # Calls per connection, towards clients (server block) and towards the server (upstream block):
  # long-lived gRPC channels would otherwise get a GOAWAY and a reconnect every 1000 calls.
  echo "keepalive_requests $keepalive_requests;"
  [ "$upstream_keepalive" = 0 ] || echo "keepalive $upstream_keepalive;"
} >"$dir/upstream-settings.conf"
{
  echo "$header"
  echo "keepalive_requests $keepalive_requests;"
  if [ "$rate" != off ]; then
    echo "limit_req_zone \$ssl_client_fingerprint zone=per_client_certificate:10m rate=$rate;"
    echo "limit_req zone=per_client_certificate burst=$burst nodelay;"
  fi
  echo "client_max_body_size $size;"
  echo "grpc_read_timeout $timeout;"
  echo "grpc_send_timeout $timeout;"
  echo "map \$host \$edge_max_request_size { default \"$size\"; }"
  echo "map \$host \$edge_upstream_timeout { default \"$timeout\"; }"
} >"$out"

exec "$@"
