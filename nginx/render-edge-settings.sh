#!/bin/sh
# Entrypoint: validates the EDGE_* environment against edge-settings.tsv (the one table of the edge's
# settings, their defaults and allowed values), renders them into nginx directives, one file per
# concern in EDGE_SETTINGS_DIR (main-settings, one upstream-NAME per upstream of routes.yaml,
# resolver, client-connections, limits, timeouts, streams, stream-size, access-log, and the access
# policy by render-access-policy.sh), each included by name by the shipped configuration, then runs
# the command: nginx under supervise-nginx.sh (beside the certificate watcher), anything else as it is.
# A bad value stops the container with one line naming the variable.
set -eu

here=$(dirname "$0")
fail() { echo "nginx: configuration error: $1" >&2; exit 64; }

require_upstreams_file() {
  [ -r "$EDGE_UPSTREAMS_FILE" ] || fail "EDGE_UPSTREAMS_FILE must be the upstreams rendered from routes.yaml (no file at $EDGE_UPSTREAMS_FILE)"
}

# The default of a setting whose table entry says "-": computed from the container.
computed_default() {
  case "$1" in
    # The DNS servers the container was given: Docker's 127.0.0.11 under compose, the cluster DNS in a pod.
    EDGE_RESOLVER)
      found=$(awk '$1 == "nameserver" { if ($2 ~ /:/) printf "[%s] ", $2; else printf "%s ", $2 }' "$EDGE_RESOLV_CONF" 2>/dev/null || :)
      [ -n "$found" ] || fail "EDGE_RESOLVER is not set and $EDGE_RESOLV_CONF names no nameserver: set EDGE_RESOLVER to the DNS server's address"
      echo "$found" | sed 's/ *$//' ;;
    # An upstream's address setting (EDGE_UPSTREAM): the address routes.yaml gives that upstream.
    *)
      require_upstreams_file
      found=$(awk -F "$tab" -v setting="$1" '$3 == setting { print $2 }' "$EDGE_UPSTREAMS_FILE" 2>/dev/null || :)
      [ -n "$found" ] || fail "edge-settings.tsv gives $1 no default and nothing computes one"
      echo "$found" ;;
  esac
}

tab=$(printf '\t')
newline='
'
while IFS="$tab" read -r name default pattern must_be _meaning; do
  case "$name" in '' | '#'*) continue ;; esac
  eval "value=\${$name:-}"
  if [ -z "$value" ]; then
    if [ "$default" = - ]; then value=$(computed_default "$name"); else value=$default; fi
  fi
  case "$value" in *"$newline"*) fail "$name must be $must_be (got a value of several lines)" ;; esac
  printf '%s\n' "$value" | grep -Eq "^($pattern)\$" || fail "$name must be $must_be (got '$value')"
  eval "$name=\$value"
  export "$name"
done <"$here/edge-settings.tsv"

# One rendered file per concern, each included by name from the shipped configuration.
dir=$EDGE_SETTINGS_DIR
mkdir -p "$dir"
"$here/render-edge-token.sh"
"$here/render-access-policy.sh" "$dir/access-policy.conf"
header="# Rendered by render-edge-settings.sh at container start from the EDGE_* variables; change those instead."
{
  echo "$header"
  # nginx's default is 1; one per core the container may use (auto) unless EDGE_WORKER_PROCESSES says.
  echo "worker_processes $EDGE_WORKER_PROCESSES;"
  # info shows why nginx ended each failed upstream exchange (make soak uses it); warn is quiet.
  echo "error_log stderr $EDGE_ERROR_LOG_LEVEL;"
} >"$dir/main-settings.conf"
# One file per upstream of routes.yaml (upstreams.tsv, rendered with the image): its server, found by
# name at run time so a restarted replica or a rescheduled pod is found; the address from the route
# file unless its address setting (EDGE_UPSTREAM for the dice server) names another.
require_upstreams_file
# Any upstream's address setting takes what EDGE_UPSTREAM takes (the table's pattern, not a copy).
address_pattern=$(awk -F "$tab" '$1 == "EDGE_UPSTREAM" { print $3 }' "$here/edge-settings.tsv")
while IFS=$tab read -r upstream address setting keepalive; do
  case "$upstream" in '' | '#'*) continue ;; esac
  if [ "$setting" != - ]; then
    eval "given=\${$setting:-}"
    if [ -n "$given" ]; then
      printf '%s\n' "$given" | grep -Eq "^($address_pattern)\$" || fail "$setting must be a DNS name and port, like server:50051 (got '$given')"
      address=$given
    fi
  fi
  [ "$keepalive" != - ] || keepalive=$EDGE_UPSTREAM_KEEPALIVE
  {
    echo "$header"
    echo "server $address resolve;"
    # nginx's default is 1000 calls per upstream connection; long-lived ones save a connect per 1000 calls.
    echo "keepalive_requests $EDGE_KEEPALIVE_REQUESTS;"
    # Idle connections to the upstream kept per worker (routes.yaml's keepalive, else
    # EDGE_UPSTREAM_KEEPALIVE; nginx keeps none by default).
    [ "$keepalive" = 0 ] || echo "keepalive $keepalive;"
  } >"$dir/upstream-$upstream.conf"
done <"$EDGE_UPSTREAMS_FILE"
family=$EDGE_IP_FAMILY
if [ "$family" = auto ]; then
  # The cluster serves the family its DNS speaks: IPv6 only when every nameserver is IPv6.
  family=ipv6
  for address in $EDGE_RESOLVER; do case "$address" in *:*) ;; *) family=ipv4 ;; esac; done
fi
case "$family" in ipv4) lookups=" ipv6=off" ;; ipv6) lookups=" ipv4=off" ;; dual) lookups="" ;; esac
{
  echo "$header"
  # From the container's resolv.conf (or EDGE_RESOLVER): nginx does not read resolv.conf itself.
  # valid=5s instead of the answer's TTL, so scaled or replaced servers are found within 5 s.
  # Only the records of the cluster's address family (EDGE_IP_FAMILY=$EDGE_IP_FAMILY: $family), so
  # nginx never tries an address the pod cannot reach; nginx's default is both.
  echo "resolver $EDGE_RESOLVER valid=5s$lookups;"
} >"$dir/resolver.conf"
{
  echo "$header"
  # Calls per client connection: nginx's default of 1000 would send long-lived gRPC channels a
  # GOAWAY (and a reconnect with a full handshake) every 1000 calls.
  echo "keepalive_requests $EDGE_KEEPALIVE_REQUESTS;"
} >"$dir/client-connections.conf"
{
  echo "$header"
  if [ "$EDGE_RATE_LIMIT" != off ]; then
    # Per client certificate (its SHA-1), not per IP: many clients share an address behind NAT.
    echo "limit_req_zone \$ssl_client_fingerprint zone=per_client_certificate:10m rate=$EDGE_RATE_LIMIT;"
    echo "limit_req zone=per_client_certificate burst=$EDGE_RATE_BURST nodelay;"
  else
    echo "# EDGE_RATE_LIMIT=off: no rate limit."
  fi
  # nginx answers 503 by default; 429 is turned into RESOURCE_EXHAUSTED by snippets/grpc-errors.conf.
  echo "limit_req_status 429;"
  # A refused call is a warning, not an error (nginx's default level).
  echo "limit_req_log_level warn;"
  # The whole request body; nginx's default is 1m. 413 becomes RESOURCE_EXHAUSTED.
  echo "client_max_body_size $EDGE_MAX_REQUEST_SIZE;"
  echo "map \$host \$edge_max_request_size { default \"$EDGE_MAX_REQUEST_SIZE\"; }"
} >"$dir/limits.conf"
{
  echo "$header"
  # nginx's default is 1: only certificates the client CA signs itself. 2 admits one intermediate
  # CA, each CA's CRL checked (snippets/mtls.conf).
  echo "ssl_verify_depth $EDGE_CLIENT_VERIFY_DEPTH;"
} >"$dir/client-verify.conf"
{
  echo "$header"
  # How long the server may stay silent on a call (nginx's default is 60 s); past it the edge answers.
  echo "grpc_read_timeout $EDGE_UPSTREAM_TIMEOUT;"
  echo "grpc_send_timeout $EDGE_UPSTREAM_TIMEOUT;"
  echo "map \$host \$edge_upstream_timeout { default \"$EDGE_UPSTREAM_TIMEOUT\"; }"
} >"$dir/timeouts.conf"
{
  echo "$header"
  # Included in the locations of streaming methods only (server streams, client streams, both).
  # A stream may stay quiet this long either way before the edge ends it. The server ends a quiet
  # stream earlier (its STREAM_IDLE_TIMEOUT_MS), with a status and a sentence; nginx, once a
  # response has begun, can only reset the stream. client_body_timeout covers a quiet client.
  echo "grpc_read_timeout $EDGE_STREAM_IDLE_TIMEOUT;"
  echo "grpc_send_timeout $EDGE_STREAM_IDLE_TIMEOUT;"
  echo "client_body_timeout $EDGE_STREAM_IDLE_TIMEOUT;"
  echo "include $dir/stream-size.conf;"
} >"$dir/streams.conf"
{
  echo "$header"
  # Included by streams.conf, and by the streams of a route with its own idle timeout (routes.yaml).
  # A stream's request body is all its messages: a total limit would end a long stream however
  # small its messages. The server limits each message (MAX_MESSAGE_BYTES); 0 here is no total.
  echo "client_max_body_size $EDGE_MAX_STREAM_SIZE;"
} >"$dir/stream-size.conf"
{
  echo "$header"
  # One JSON line per call on stdout (conf.d/logging.conf defines grpc_json). Buffered, a line is an
  # append to memory and lines reach the container runtime's log pipe 64 KB at a time; unbuffered,
  # each call costs a write() of its own (make bench, scenario 7). A buffer is written when full,
  # within 1 s (flush), and when a worker exits or reloads.
  case "$EDGE_ACCESS_LOG" in
    buffered) echo "access_log /dev/stdout grpc_json buffer=64k flush=1s;" ;;
    unbuffered) echo "access_log /dev/stdout grpc_json;" ;;
    off) echo "access_log off;" ;;
  esac
} >"$dir/access-log.conf"
if [ "${1:-}" = nginx ] && [ "$EDGE_CERT_CHECK_INTERVAL" != 0 ]; then exec "$here/supervise-nginx.sh" "$@"; fi
exec "$@"
