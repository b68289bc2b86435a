#!/bin/sh
# Reloads nginx when its certificate files or the edge token change: the server certificate and key,
# the client CA, the CRL and the edge token (re-rendered first, render-edge-token.sh). Nobody has to tell it: the kubelet swaps a mounted Secret's `..data` link without
# telling any process, and `make rotate-certs` / `make revoke` rewrite the compose mounts in place.
# A change is acted on once the files have stayed the same for one more check (a writer may be
# halfway), and only when `nginx -t` accepts them: a certificate that does not match its key, or a
# file that is not PEM, is logged and left alone, and nginx keeps serving what it has loaded.
# Usage: watch-certificates.sh NGINX_MASTER_PID INTERVAL_SECONDS (supervise-nginx.sh runs it)
set -u
master=$1
interval=$2
files=$EDGE_CERT_FILES  # validated by render-edge-settings.sh

log() { echo "$(date -u '+%Y/%m/%d %H:%M:%S') [$1] certificate watcher: $2" >&2; }
# One line for the content of every watched file (through any symlink), so a swapped link counts.
fingerprint() { for file in $files; do cksum 2>/dev/null <"$file" || echo "missing $file"; done | cksum; }

tried=$(fingerprint)   # what nginx loaded at start, or what was last tried
seen=$tried
while sleep "$interval"; do
  kill -0 "$master" 2>/dev/null || exit 0
  now=$(fingerprint)
  if [ "$now" != "$seen" ]; then seen=$now; continue; fi   # still changing: look again next time
  [ "$now" = "$tried" ] && continue
  tried=$now
  if ! problem=$("$(dirname "$0")/render-edge-token.sh" 2>&1); then
    log error "the edge token file changed but cannot be used, so nginx keeps sending the token it has: ${problem#nginx: configuration error: }"
  elif problem=$(nginx -e stderr -t -q 2>&1); then
    log notice "certificate files changed; reloading nginx (connections and calls in flight finish on the old workers)"
    kill -HUP "$master"
  else
    log error "certificate files changed but nginx rejects them, so it keeps serving the ones it has: $(echo "$problem" | grep -m1 emerg | sed 's/^.*\[emerg\] [0-9#]*: //')"
  fi
done
