#!/usr/bin/env bash
# The renewer: keeps the stack's short-lived leaves (server.pem, client.pem; CERT_LIFETIME, 24 h by
# default) and the CRLs fresh while the stack runs. Compose runs it as the service `renewer`, in the
# edge's image (openssl is there) with this directory mounted read-only and the PKI read-write.
# Every CERT_RENEW_INTERVAL it renews a leaf once less than CERT_RENEW_BEFORE (a third of its
# lifetime by default) is left: a new key, the same names, from the same CA, written in place, so
# nginx's certificate watcher reloads it and the web app switches by itself, as after
# `make rotate-certs`. A leaf it cannot renew is loud: a log line with the time left at every check,
# and its health check fails once a quarter of the lifetime is left (expiry_alarm_seconds).
#
#   renew-certificates.sh           check, renew what is due, sleep, forever
#   renew-certificates.sh --once    one check (what `make renew-certs` runs from the host)
#   renew-certificates.sh --health  the container's health check: the last check's problems, if any
#
#   CERTS_DIR             the PKI (default certs/ of this checkout)
#   CERT_LIFETIME         a renewed leaf's lifetime (default 24h)
#   CERT_RENEW_BEFORE     renew when less than this is left (default: a third of the leaf's lifetime)
#   CERT_RENEW_INTERVAL   how often to look (default 1m)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
status_file=${RENEWER_STATUS_FILE:-/tmp/renewer-status}
interval=$(duration_seconds CERT_RENEW_INTERVAL "${CERT_RENEW_INTERVAL:-1m}") 2>/dev/null ||
  die "CERT_RENEW_INTERVAL must be a duration such as 30s, 1m or 1h, not '${CERT_RENEW_INTERVAL:-}'."

log() { echo "$(date -u '+%Y-%m-%dT%H:%M:%SZ') [$1] renewer: $2" >&2; }

if [ "${1:-}" = --health ]; then
  [ -f "$status_file" ] || { echo "the renewer has not finished its first check yet"; exit 1; }
  age=$(($(date +%s) - $(stat -c %Y "$status_file")))
  # Three intervals without a check: the loop is stuck (openssl hanging, the directory gone).
  [ "$age" -le $((3 * interval + 30)) ] || { echo "the renewer's last check was $(human_duration "$age") ago"; exit 1; }
  if [ -s "$status_file" ]; then cat "$status_file"; exit 1; fi
  echo "every certificate is fresh"
  exit 0
fi

dir=$(existing_pki_dir ca.pem "There is nothing to renew")
. "$here/pki-lib.sh"
leaf_lifetime >/dev/null
[ -z "${CERT_RENEW_BEFORE:-}" ] || [ "$(duration_seconds CERT_RENEW_BEFORE "$CERT_RENEW_BEFORE")" -lt "$(leaf_lifetime)" ] ||
  die "CERT_RENEW_BEFORE ($CERT_RENEW_BEFORE) must be shorter than CERT_LIFETIME (${CERT_LIFETIME:-24h}), or every check would renew."

# Renews one leaf when it is due; prints a problem for the health check when it is due and could not be.
renew_leaf() { # name role
  local name=$1 pem="$dir/$1.pem" left problem
  use_ca "$2"
  [ -s "$pem" ] || { echo "$name.pem is missing"; return; }
  left=$(($(cert_time "$pem" enddate) - $(date +%s)))
  renewal_due "$pem" || return 0
  if ! have_ca_key; then
    problem="the $2 CA key is not here to renew it (your own CA: renew it there)"
  # In a subshell: die inside the PKI functions ends this attempt, not the renewer.
  elif problem=$( (reissue_leaf "$name") 2>&1); then
    log notice "renewed $name.pem (serial $(cert_serial "$pem")), valid until $(date -u -d "@$(cert_time "$pem" enddate)" '+%Y-%m-%dT%H:%M:%SZ'); the old one had $(human_duration "$left") left"
    return
  fi
  problem="$name.pem expires in $(human_duration "$left") and could not be renewed: $(echo "$problem" | tail -n1)"
  log error "$problem"
  if [ "$left" -lt "$(expiry_alarm_seconds "$pem")" ]; then echo "$problem"; fi
}

# nginx refuses every client once the CRL is past its next update: re-signed at half its validity.
renew_crl() { # role
  use_ca "$1"
  [ -s "$crl_file" ] && have_ca_key || return 0
  local last next
  last=$(cert_time "$crl_file" lastupdate) next=$(cert_time "$crl_file" nextupdate)
  [ $((next - $(date +%s))) -lt $(((next - last) / 2)) ] || return 0
  if (update_crl) 2>/dev/null; then log notice "re-signed $(basename "$crl_file"), next update $(date -u -d "@$(cert_time "$crl_file" nextupdate)" '+%Y-%m-%d')"
  else log error "could not re-sign $(basename "$crl_file"); it is valid for $(human_duration $((next - $(date +%s)))) more"; fi
}

check() {
  local problems role
  lock_pki
  # Each in a subshell: a file caught half-written by someone else (make rotate-certs) fails this
  # check alone, and the next one looks again.
  problems=$(
    for role in server client; do
      (renew_leaf "$role" "$role") || echo "$role.pem could not be checked; the next check tries again"
    done
  )
  for role in $(two_cas && echo server client || echo client); do
    (renew_crl "$role") || log error "the $role CA's CRL could not be checked; the next check tries again"
  done
  unlock_pki
  printf '%s' "$problems" >"$status_file"
}

if [ "${1:-}" = --once ]; then
  check
  [ ! -s "$status_file" ] || { cat "$status_file" >&2; echo >&2; exit 1; }
  exit 0
fi

log notice "watching server.pem and client.pem in $dir every $(human_duration "$interval"): each is renewed for ${CERT_LIFETIME:-24h} once ${CERT_RENEW_BEFORE:-a third of its lifetime} is left"
trap 'exit 0' TERM INT
while :; do
  check
  sleep "$interval" &
  wait $! || :
done
