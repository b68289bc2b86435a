# Shared helpers for the setup scripts. Sourced, not run.
# shellcheck shell=bash

# A failure inside $(...) stops the script too (bash does not pass set -e into command substitutions
# by itself), so a step that fails is never mistaken for one that printed nothing.
shopt -s inherit_errexit
say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Durations as CERT_LIFETIME, CERT_RENEW_BEFORE and CERT_RENEW_INTERVAL take them: 90s, 15m, 24h, 30d.
duration_seconds() { # variable-name value
  [[ $2 =~ ^([1-9][0-9]{0,6})([smhd])$ ]] || die "$1 must be a duration such as 90s, 15m, 24h or 30d, not '$2'."
  local n=${BASH_REMATCH[1]}
  case ${BASH_REMATCH[2]} in s) echo "$n" ;; m) echo $((n * 60)) ;; h) echo $((n * 3600)) ;; d) echo $((n * 86400)) ;; esac
}
# "2d3h", "1h02m", "4m10s", "12s": how long is left, for a person.
human_duration() { # seconds
  local s=$1 sign=""
  if [ "$s" -lt 0 ]; then sign="-" s=$((-s)); fi
  if [ "$s" -ge 86400 ]; then printf '%s%dd%dh' "$sign" $((s / 86400)) $((s % 86400 / 3600))
  elif [ "$s" -ge 3600 ]; then printf '%s%dh%02dm' "$sign" $((s / 3600)) $((s % 3600 / 60))
  elif [ "$s" -ge 60 ]; then printf '%s%dm%02ds' "$sign" $((s / 60)) $((s % 60))
  else printf '%s%ds' "$sign" "$s"; fi
}
is_root() { [ "$(id -u)" = 0 ]; }
is_debian() { [ -r /etc/debian_version ] && command -v apt-get >/dev/null 2>&1; }

# The first Debian archive URI the host already uses, so setup goes through the same mirror or proxy.
# Prints nothing when there is none (callers say so).
debian_mirror() {
  local files=() file
  for file in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    if [ -r "$file" ]; then files+=("$file"); fi
  done
  [ ${#files[@]} -gt 0 ] || return 0
  awk '($1 == "URIs:" || $1 == "deb") && $2 !~ /security|nodesource|google/ && $2 ~ /\/debian\/?$/ { sub(/\/$/, "", $2); print $2; exit }' "${files[@]}"
}

# How long apt waits for another package manager (unattended upgrades on a fresh VM) to finish.
apt_lock_timeout=${APT_LOCK_TIMEOUT:-600}

# Prints the pid holding one of apt's or dpkg's locks, if any (from /proc/locks: no extra tools).
package_lock_holder() {
  local lock inode
  for lock in /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock; do
    [ -e "$lock" ] || continue
    inode=$(stat -c %i "$lock")
    awk -v inode="$inode" '{ split($6, id, ":"); if (id[3] == inode) { print $5; exit } }' /proc/locks 2>/dev/null
  done | head -n1
}

apt_get() { # apt-get with a bounded wait for the package lock, said on one line when it happens
  local holder
  holder=$(package_lock_holder)
  [ -z "$holder" ] || say "waiting up to ${apt_lock_timeout} s for another package manager (pid $holder) to release the dpkg lock"
  DEBIAN_FRONTEND=noninteractive apt-get -o "DPkg::Lock::Timeout=$apt_lock_timeout" "$@"
}

apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then
    say "apt-get update"
    apt_get update -qq >/dev/null || die "apt-get update failed; check the machine's Debian sources."
    apt_updated=1
  fi
  say "apt-get install $*"
  apt_get install -y -qq --no-install-recommends "$@" >/dev/null ||
    die "apt-get install $* failed."
}

# The PKI directory the certificate scripts work in (CERTS_DIR, default certs/ of this checkout), as
# an absolute path; stops with "WHAT in DIR: run make certs first." when FILE is not there.
existing_pki_dir() { # file what
  local dir=${CERTS_DIR:-$here/../certs}
  [ -s "$dir/$1" ] || die "$2 in $dir: run make certs first."
  cd "$dir" && pwd
}

# The running stack's containers of a compose service (COMPOSE_PROJECT_NAME picks the stack).
running_replicas() { docker compose ps --quiet --status running "$1" 2>/dev/null | wc -l; }
now_for_logs() { date -u +%Y-%m-%dT%H:%M:%S.%NZ; }

# Waits until `count` lines of a service's log since `since` match `pattern`; after 60 s it stops
# with what did not happen and why waiting is safe (`meanwhile`).
wait_for_log() { # service pattern count since what meanwhile
  local seen=0
  for _ in $(seq 1 60); do
    seen=$(docker compose logs --no-log-prefix --since "$4" "$1" 2>&1 | grep -c -- "$2" || :)
    [ "$seen" -ge "$3" ] && return 0
    sleep 1
  done
  die "$5 did not happen within 60 s ($seen of $3 log lines); $6: see make logs, then run this again."
}
