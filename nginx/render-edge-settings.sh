#!/bin/sh
# Entrypoint: turns the EDGE_* environment into nginx directives, then runs the command. Three files
# next to each other: edge-settings.conf (http level), main-settings.conf (top level) and
# upstream-settings.conf (inside the upstream block), all included by the shipped configuration.
# A bad value stops the container with one line naming the variable.
# When the command is nginx, it also watches the certificate files and reloads nginx when they change
# (watch-certificates.sh), so a rotated Secret or `make rotate-certs` needs no restart and no reload.
set -eu

fail() { echo "nginx: configuration error: $1" >&2; exit 64; }

rate=${EDGE_RATE_LIMIT:-1000r/s}
burst=${EDGE_RATE_BURST:-2000}
size=${EDGE_MAX_REQUEST_SIZE:-64k}
timeout=${EDGE_UPSTREAM_TIMEOUT:-30s}
workers=${EDGE_WORKER_PROCESSES:-auto}
upstream_keepalive=${EDGE_UPSTREAM_KEEPALIVE:-32}
keepalive_requests=${EDGE_KEEPALIVE_REQUESTS:-100000}
error_log_level=${EDGE_ERROR_LOG_LEVEL:-warn}
upstream=${EDGE_UPSTREAM:-server:50051}
resolv_conf=${EDGE_RESOLV_CONF:-/etc/resolv.conf}
# The DNS servers the container was given: Docker's 127.0.0.11 under compose, the cluster DNS in a pod.
resolver=${EDGE_RESOLVER:-$(awk '$1 == "nameserver" { if ($2 ~ /:/) printf "[%s] ", $2; else printf "%s ", $2 }' "$resolv_conf" 2>/dev/null || :)}
resolver=$(echo "$resolver" | sed 's/ *$//')
cert_check=${EDGE_CERT_CHECK_INTERVAL:-2}

echo "$rate" | grep -Eq '^(off|[1-9][0-9]*r/[sm])$' || fail "EDGE_RATE_LIMIT must be a rate like 1000r/s or 600r/m, or off (got '$rate')"
echo "$burst" | grep -Eq '^[0-9]+$' || fail "EDGE_RATE_BURST must be a whole number of requests (got '$burst')"
echo "$size" | grep -Eq '^[1-9][0-9]*[kKmM]?$' || fail "EDGE_MAX_REQUEST_SIZE must be a size like 64k or 4m (got '$size')"
echo "$timeout" | grep -Eq '^[1-9][0-9]*(ms|s|m)$' || fail "EDGE_UPSTREAM_TIMEOUT must be a duration like 30s or 500ms (got '$timeout')"
echo "$workers" | grep -Eq '^(auto|[1-9][0-9]*)$' || fail "EDGE_WORKER_PROCESSES must be auto or a number of processes (got '$workers')"
echo "$upstream_keepalive" | grep -Eq '^[0-9]+$' || fail "EDGE_UPSTREAM_KEEPALIVE must be a number of idle connections to keep per worker, 0 for none (got '$upstream_keepalive')"
echo "$keepalive_requests" | grep -Eq '^[1-9][0-9]*$' || fail "EDGE_KEEPALIVE_REQUESTS must be a number of calls per connection (got '$keepalive_requests')"
echo "$error_log_level" | grep -Eq '^(debug|info|notice|warn|error|crit)$' || fail "EDGE_ERROR_LOG_LEVEL must be one of debug, info, notice, warn, error, crit (got '$error_log_level')"
echo "$upstream" | grep -Eq '^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?:[1-9][0-9]*$' || fail "EDGE_UPSTREAM must be the server's DNS name and port, like server:50051 or dice-server.dice.svc.cluster.local:50051 (got '$upstream')"
[ -n "$resolver" ] || fail "EDGE_RESOLVER is not set and $resolv_conf names no nameserver: set EDGE_RESOLVER to the DNS server's address"
echo "$resolver" | grep -Eq '^[][0-9A-Fa-f.:]+( [][0-9A-Fa-f.:]+)*$' || fail "EDGE_RESOLVER must be DNS server addresses separated by spaces, like 10.96.0.10 (got '$resolver')"
echo "$cert_check" | grep -Eq '^[0-9]+$' || fail "EDGE_CERT_CHECK_INTERVAL must be a whole number of seconds, 0 to stop watching the certificate files (got '$cert_check')"

out=${EDGE_SETTINGS_FILE:-/tmp/nginx/edge-settings.conf}
dir=$(dirname "$out")
mkdir -p "$dir"
header="# Rendered by render-edge-settings.sh at container start; change the EDGE_* variables instead."
{
  echo "$header"
  echo "worker_processes $workers;"
  # info shows why nginx ended each failed upstream exchange (make soak uses it); warn is quiet.
  echo "error_log stderr $error_log_level;"
} >"$dir/main-settings.conf"
{
  echo "$header"
  # The server, re-resolved at run time: a restarted replica or a rescheduled pod is found by name.
  echo "server $upstream resolve;"
  # Calls per connection, towards clients (server block) and towards the server (upstream block):
  # long-lived gRPC channels would otherwise get a GOAWAY and a reconnect every 1000 calls.
  echo "keepalive_requests $keepalive_requests;"
  [ "$upstream_keepalive" = 0 ] || echo "keepalive $upstream_keepalive;"
} >"$dir/upstream-settings.conf"
{
  echo "$header"
  # From the container's resolv.conf (or EDGE_RESOLVER); nginx does not read resolv.conf itself.
  echo "resolver $resolver valid=5s ipv6=off;"
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

if [ "${1:-}" != nginx ] || [ "$cert_check" = 0 ]; then exec "$@"; fi

# nginx in the foreground as a child, so the certificate watcher can run beside it. This shell
# passes the stop signals on (SIGQUIT: finish calls in flight; SIGTERM/SIGINT: fast) and ends with nginx.
"$@" &
nginx_pid=$!
trap 'kill -QUIT "$nginx_pid" 2>/dev/null || :' QUIT
trap 'kill -TERM "$nginx_pid" 2>/dev/null || :' TERM INT
/usr/local/bin/watch-certificates "$nginx_pid" "$cert_check" &
watcher_pid=$!
status=0
while kill -0 "$nginx_pid" 2>/dev/null; do
  # wait returns early when a trapped signal arrives; go on waiting until nginx has exited.
  if wait "$nginx_pid"; then status=0; else status=$?; fi
done
kill "$watcher_pid" 2>/dev/null || :
exit "$status"
