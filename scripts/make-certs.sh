#!/usr/bin/env bash
# Writes the project PKI with openssl: an ECDSA P-256 CA, the edge's server certificate and the web
# app's client certificate, under the tutorial's file names. Existing files are kept; FORCE=1
# re-issues everything (a new CA too).
#
#   CERTS_DIR   where to write (default: certs/ of this checkout)
#   FORCE=1     replace what exists
#   APP_UID/APP_GID   when run as root, the mounted keys are handed to this user (default 10001),
#                     the one the containers run as, so keys can stay mode 0600
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
command -v openssl >/dev/null 2>&1 || die "openssl is needed to issue certificates: install it (apt-get install openssl), then run this again."

dir=${CERTS_DIR:-$here/../certs}
mkdir -p "$dir/ca"
dir=$(cd "$dir" && pwd)
ca_dir="$dir/ca"   # the CA key lives here, apart from the files containers mount
days_ca=${CA_DAYS:-3650}
days_leaf=${LEAF_DAYS:-397}

if [ "${FORCE:-0}" = 1 ]; then
  say "FORCE=1: re-issuing the CA and all certificates in $dir"
  rm -f "$dir"/*.pem "$ca_dir"/*.pem "$ca_dir"/*.srl
fi

new_key() { # path
  (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null)
  chmod 0600 "$1"
}

if [ ! -s "$dir/ca.pem" ]; then
  for leaf in server client; do
    [ -e "$dir/$leaf.pem" ] && die "$dir has $leaf.pem but no ca.pem: add the CA that issued it, or re-issue everything with FORCE=1."
  done
  say "issuing a new CA in $dir (ca.pem; key in ca/ca-key.pem)"
  new_key "$ca_dir/ca-key.pem"
  openssl req -x509 -new -key "$ca_dir/ca-key.pem" -sha256 -days "$days_ca" \
    -subj "/O=Dice Stack/CN=Dice Stack CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" \
    -out "$dir/ca.pem"
fi

issue_leaf() { # name subject extensions...
  local name=$1 subject=$2; shift 2
  if [ -s "$dir/$name.pem" ] && [ -s "$dir/$name-key.pem" ]; then return; fi
  # An own CA (see README) keeps its key elsewhere: then every certificate must come from there.
  [ -s "$ca_dir/ca-key.pem" ] || die "$name.pem is missing and the CA key ($ca_dir/ca-key.pem) is not here to issue it: issue $name.pem and $name-key.pem with your CA (see README, 'Using your own CA')."
  say "issuing $name.pem ($subject)"
  local ext; ext=$(mktemp)
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
    "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid" "$@" >"$ext"
  new_key "$dir/$name-key.pem"
  openssl req -new -key "$dir/$name-key.pem" -subj "$subject" |
    openssl x509 -req -CA "$dir/ca.pem" -CAkey "$ca_dir/ca-key.pem" -sha256 -days "$days_leaf" \
      -extfile "$ext" -out "$dir/$name.pem" 2>/dev/null
  rm -f "$ext"
}

issue_leaf server "/O=Dice Stack/CN=nginx" \
  "extendedKeyUsage=serverAuth" "subjectAltName=DNS:nginx,DNS:localhost,IP:127.0.0.1"
issue_leaf client "/O=Dice Stack/CN=dice-webapp" "extendedKeyUsage=clientAuth"

chmod 0644 "$dir"/ca.pem "$dir"/server.pem "$dir"/client.pem
chmod 0700 "$ca_dir"
chmod 0600 "$dir"/server-key.pem "$dir"/client-key.pem
if is_root; then
  # Same default as prepare-build.sh: the unprivileged id the containers run as when make runs as root.
  chown "${APP_UID:-10001}:${APP_GID:-${APP_UID:-10001}}" "$dir"/server-key.pem "$dir"/client-key.pem
fi
for cert in server client; do
  openssl verify -CAfile "$dir/ca.pem" "$dir/$cert.pem" >/dev/null || die "$cert.pem does not verify against ca.pem; re-issue with FORCE=1."
done
say "certificates ready in $dir"
