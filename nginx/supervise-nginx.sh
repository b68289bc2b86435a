#!/bin/sh
# Runs nginx in the foreground as a child, with the certificate watcher (watch-certificates.sh)
# beside it, so a rotated Secret or `make rotate-certs` needs no restart and no reload. Passes the
# stop signals on (SIGQUIT: finish calls in flight; SIGTERM/SIGINT: fast) and ends with nginx's status.
# Usage: supervise-nginx.sh nginx ARGS... (render-edge-settings.sh runs it with EDGE_CERT_CHECK_INTERVAL
# and EDGE_CERT_FILES validated and exported).
set -eu
"$@" &
nginx_pid=$!
trap 'kill -QUIT "$nginx_pid" 2>/dev/null || :' QUIT
trap 'kill -TERM "$nginx_pid" 2>/dev/null || :' TERM INT
"$(dirname "$0")/watch-certificates.sh" "$nginx_pid" "$EDGE_CERT_CHECK_INTERVAL" &
watcher_pid=$!
status=0
while kill -0 "$nginx_pid" 2>/dev/null; do
  # wait returns early when a trapped signal arrives; go on waiting until nginx has exited.
  if wait "$nginx_pid"; then status=0; else status=$?; fi
done
kill "$watcher_pid" 2>/dev/null || :
exit "$status"
