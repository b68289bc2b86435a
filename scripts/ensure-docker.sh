#!/usr/bin/env bash
# Makes sure a Docker engine answers and `docker compose` (v2) works. On a Debian machine where we
# are root, installs and starts what is missing; elsewhere, says what to install.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

compose_ok() { docker compose version >/dev/null 2>&1; }

if ! docker info >/dev/null 2>&1 && ! { command -v docker && command -v dockerd; } >/dev/null 2>&1; then
  if is_root && is_debian; then
    apt_install docker.io
  else
    die "Docker is not installed: install Docker Engine with the Compose v2 plugin (https://docs.docker.com/engine/install/), then run this again."
  fi
fi

if ! docker info >/dev/null 2>&1; then
  if is_root && command -v dockerd >/dev/null 2>&1; then
    say "starting dockerd in the background (log: /var/log/dockerd.log)"
    nohup dockerd >/var/log/dockerd.log 2>&1 &
    for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
    docker info >/dev/null 2>&1 || die "dockerd did not start; see /var/log/dockerd.log."
  else
    die "The Docker engine is not running and cannot be started from here: start Docker (or add your user to the docker group), then run this again."
  fi
fi

if ! compose_ok; then
  if is_root && is_debian; then
    # Debian 12 has no Compose v2; trixie's docker-compose is a static binary that needs only a
    # recent libc, so fetch that one package instead of pulling the system towards trixie.
    mirror=$(debian_mirror)
    [ -n "$mirror" ] || die "No Debian mirror found in /etc/apt to fetch docker-compose from."
    say "installing the Docker Compose v2 plugin from Debian trixie's docker-compose package"
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    mkdir -p "$tmp/lists/partial" "$tmp/archives/partial"
    echo "deb $mirror trixie main" >"$tmp/trixie.list"
    aptopts=(-o "Dir::Etc::SourceList=$tmp/trixie.list" -o "Dir::Etc::SourceParts=-"
             -o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache::Archives=$tmp/archives" -o "APT::Get::List-Cleanup=0" -o "APT::Sandbox::User=root")
    apt-get "${aptopts[@]}" update -qq >/dev/null || die "Could not read Debian trixie's package list from $mirror."
    (cd "$tmp" && apt-get "${aptopts[@]}" download docker-compose >/dev/null) || die "Could not download trixie's docker-compose package."
    dpkg-deb -x "$tmp"/docker-compose_*.deb "$tmp/root"
    bin=$(find "$tmp/root" -type f -name docker-compose -perm -u+x | head -n1)
    [ -n "$bin" ] || die "trixie's docker-compose package holds no docker-compose binary."
    install -D -m 0755 "$bin" /usr/local/lib/docker/cli-plugins/docker-compose
  fi
  compose_ok || die "'docker compose' (v2) is not available: install the Docker Compose v2 plugin, then run this again."
fi
say "docker $(docker version --format '{{.Server.Version}}' 2>/dev/null), $(docker compose version --short 2>/dev/null | sed 's/^/compose /')"
