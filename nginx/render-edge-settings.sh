#!/bin/sh
# Entrypoint: turns the EDGE_* environment into nginx directives (/tmp/nginx/edge-settings.conf,
# included by nginx.conf), then runs the command. A bad value stops the container with one line
# naming the variable.
set -eu

fail() { echo "nginx: configuration error: $1" >&2; exit 64; }

rate=${EDGE_RATE_LIMIT:-1000r/s}
burst=${EDGE_RATE_BURST:-2000}
size=${EDGE_MAX_REQUEST_SIZE:-64k}
timeout=${EDGE_UPSTREAM_TIMEOUT:-30s}

echo "$rate" | grep -Eq '^(off|[1-9][0-9]*r/[sm])$' || fail "EDGE_RATE_LIMIT must be a rate like 1000r/s or 600r/m, or off (got '$rate')"
echo "$burst" | grep -Eq '^[0-9]+$' || fail "EDGE_RATE_BURST must be a whole number of requests (got '$burst')"
echo "$size" | grep -Eq '^[1-9][0-9]*[kKmM]?$' || fail "EDGE_MAX_REQUEST_SIZE must be a size like 64k or 4m (got '$size')"
echo "$timeout" | grep -Eq '^[1-9][0-9]*(ms|s|m)$' || fail "EDGE_UPSTREAM_TIMEOUT must be a duration like 30s or 500ms (got '$timeout')"

out=${EDGE_SETTINGS_FILE:-/tmp/nginx/edge-settings.conf}
mkdir -p "$(dirname "$out")"
{
  echo "# Rendered by render-edge-settings.sh at container start; change the EDGE_* variables instead."
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
