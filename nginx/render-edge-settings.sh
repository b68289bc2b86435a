#!/bin/sh
# Entrypoint: turns the EDGE_* environment into nginx directives, then runs the command. One file
# per concern in /tmp/nginx (main-settings, upstream-settings, resolver, client-connections, limits,
# timeouts, streams, access-log), each included by name by the shipped configuration; edge-settings.conf repeats
# the http-level ones together for reading.
# A bad value stops the container with one line naming the variable.
# When the command is nginx, it also watches the certificate files and reloads nginx when they change
# (watch-certificates.sh), so a rotated Secret or `make rotate-certs` needs no restart and no reload.
set -eu

fail() { echo "nginx: configuration error: $1" >&2; exit 64; }

rate=${EDGE_RATE_LIMIT:-5000r/s}
burst=${EDGE_RATE_BURST:-5000}
size=${EDGE_MAX_REQUEST_SIZE:-64k}
timeout=${EDGE_UPSTREAM_TIMEOUT:-30s}
stream_idle=${EDGE_STREAM_IDLE_TIMEOUT:-60s}
access_log=${EDGE_ACCESS_LOG:-buffered}
stream_size=${EDGE_MAX_STREAM_SIZE:-0}
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
echo "$stream_idle" | grep -Eq '^[1-9][0-9]*(ms|s|m|h)$' || fail "EDGE_STREAM_IDLE_TIMEOUT must be a duration like 60s or 5m (got '$stream_idle')"
echo "$stream_size" | grep -Eq '^(0|[1-9][0-9]*[kKmMgG]?)$' || fail "EDGE_MAX_STREAM_SIZE must be a size like 64m, or 0 for no limit on a stream's total (got '$stream_size')"
echo "$access_log" | grep -Eq '^(buffered|unbuffered|off)$' || fail "EDGE_ACCESS_LOG must be buffered, unbuffered or off (got '$access_log')"
echo "$workers" | grep -Eq '^(auto|[1-9][0-9]*)$' || fail "EDGE_WORKER_PROCESSES must be auto or a number of processes (got '$workers')"
echo "$upstream_keepalive" | grep -Eq '^[0-9]+$' || fail "EDGE_UPSTREAM_KEEPALIVE must be a number of idle connections to keep per worker, 0 for none (got '$upstream_keepalive')"
echo "$keepalive_requests" | grep -Eq '^[1-9][0-9]*$' || fail "EDGE_KEEPALIVE_REQUESTS must be a number of calls per connection (got '$keepalive_requests')"
echo "$error_log_level" | grep -Eq '^(debug|info|notice|warn|error|crit)$' || fail "EDGE_ERROR_LOG_LEVEL must be one of debug, info, notice, warn, error, crit (got '$error_log_level')"
echo "$upstream" | grep -Eq '^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?:[1-9][0-9]*$' || fail "EDGE_UPSTREAM must be the server's DNS name and port, like server:50051 or dice-server.dice.svc.cluster.local:50051 (got '$upstream')"
[ -n "$resolver" ] || fail "EDGE_RESOLVER is not set and $resolv_conf names no nameserver: set EDGE_RESOLVER to the DNS server's address"
echo "$resolver" | grep -Eq '^[][0-9A-Fa-f.:]+( [][0-9A-Fa-f.:]+)*$' || fail "EDGE_RESOLVER must be DNS server addresses separated by spaces, like 10.96.0.10 (got '$resolver')"
echo "$cert_check" | grep -Eq '^[0-9]+$' || fail "EDGE_CERT_CHECK_INTERVAL must be a whole number of seconds, 0 to stop watching the certificate files (got '$cert_check')"

# One rendered file per concern, each included by name from the shipped configuration.
out=${EDGE_SETTINGS_FILE:-/tmp/nginx/edge-settings.conf}
dir=$(dirname "$out")
mkdir -p "$dir"
header="# Rendered by render-edge-settings.sh at container start from the EDGE_* variables; change those instead."
{
  echo "$header"
  # nginx's default is 1; one per core the container may use (auto) unless EDGE_WORKER_PROCESSES says.
  echo "worker_processes $workers;"
  # info shows why nginx ended each failed upstream exchange (make soak uses it); warn is quiet.
  echo "error_log stderr $error_log_level;"
} >"$dir/main-settings.conf"
{
  echo "$header"
  # The server, re-resolved at run time: a restarted replica or a rescheduled pod is found by name.
  echo "server $upstream resolve;"
  # nginx's default is 1000 calls per upstream connection; long-lived ones save a connect per 1000 calls.
  echo "keepalive_requests $keepalive_requests;"
  # Idle connections to the server kept per worker (EDGE_UPSTREAM_KEEPALIVE; nginx keeps none by default).
  [ "$upstream_keepalive" = 0 ] || echo "keepalive $upstream_keepalive;"
} >"$dir/upstream-settings.conf"
{
  echo "$header"
  # From the container's resolv.conf (or EDGE_RESOLVER): nginx does not read resolv.conf itself.
  # valid=5s instead of the answer's TTL, so scaled or replaced servers are found within 5 s.
  echo "resolver $resolver valid=5s ipv6=off;"
} >"$dir/resolver.conf"
{
  echo "$header"
  # Calls per client connection: nginx's default of 1000 would send long-lived gRPC channels a
  # GOAWAY (and a reconnect with a full handshake) every 1000 calls.
  echo "keepalive_requests $keepalive_requests;"
} >"$dir/client-connections.conf"
{
  echo "$header"
  if [ "$rate" != off ]; then
    # Per client certificate (its SHA-1), not per IP: many clients share an address behind NAT.
    echo "limit_req_zone \$ssl_client_fingerprint zone=per_client_certificate:10m rate=$rate;"
    echo "limit_req zone=per_client_certificate burst=$burst nodelay;"
  else
    echo "# EDGE_RATE_LIMIT=off: no rate limit."
  fi
  # nginx answers 503 by default; 429 is turned into RESOURCE_EXHAUSTED by snippets/grpc-errors.conf.
  echo "limit_req_status 429;"
  # A refused call is a warning, not an error (nginx's default level).
  echo "limit_req_log_level warn;"
  # The whole request body; nginx's default is 1m. 413 becomes RESOURCE_EXHAUSTED.
  echo "client_max_body_size $size;"
  echo "map \$host \$edge_max_request_size { default \"$size\"; }"
} >"$dir/limits.conf"
{
  echo "$header"
  # How long the server may stay silent on a call (nginx's default is 60 s); past it the edge answers.
  echo "grpc_read_timeout $timeout;"
  echo "grpc_send_timeout $timeout;"
  echo "map \$host \$edge_upstream_timeout { default \"$timeout\"; }"
} >"$dir/timeouts.conf"
{
  echo "$header"
  # Included in the locations of streaming methods only (server streams, client streams, both).
  # A stream may stay quiet this long either way before the edge ends it. The server ends a quiet
  # stream earlier (its STREAM_IDLE_TIMEOUT_MS), with a status and a sentence; nginx, once a
  # response has begun, can only reset the stream. client_body_timeout covers a quiet client.
  echo "grpc_read_timeout $stream_idle;"
  echo "grpc_send_timeout $stream_idle;"
  echo "client_body_timeout $stream_idle;"
  # A stream's request body is all its messages: a total limit would end a long stream however
  # small its messages. The server limits each message (MAX_MESSAGE_BYTES); 0 here is no total.
  echo "client_max_body_size $stream_size;"
} >"$dir/streams.conf"
{
  echo "$header"
  # One JSON line per call on stdout (conf.d/logging.conf defines grpc_json). Buffered, a line is an
  # append to memory and lines reach the container runtime's log pipe 64 KB at a time; unbuffered,
  # each call costs a write() of its own (make bench, scenario 7). A buffer is written when full,
  # within 1 s (flush), and when a worker exits or reloads.
  case "$access_log" in
    buffered) echo "access_log /dev/stdout grpc_json buffer=64k flush=1s;" ;;
    unbuffered) echo "access_log /dev/stdout grpc_json;" ;;
    off) echo "access_log off;" ;;
  esac
} >"$dir/access-log.conf"
# The files above, in the order nginx.conf includes them: for `make edge-config` and the tests.
cat "$dir/client-connections.conf" "$dir/resolver.conf" "$dir/limits.conf" "$dir/timeouts.conf" >"$out"

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
