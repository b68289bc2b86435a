#!/usr/bin/env bash
# Writes the project PKI with openssl: an ECDSA P-256 CA, the edge's server certificate and the web
# app's client certificate, under the tutorial's file names. Existing files are kept; FORCE=1
# re-issues everything (a new CA too).
#
#   CERTS_DIR   where to write (default: certs/ of this checkout)
#   FORCE=1     replace what exists
#   CA_NAME     the new CA's common name (default "Dice Stack CA"); give a client CA and a server CA
#               different names, since certificates and CRLs are matched to their CA by name
#   APP_UID/APP_GID   when run as root, the mounted keys are handed to this user (default 10001),
#                     the one the containers run as, so keys can stay mode 0600
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
command -v openssl >/dev/null 2>&1 || die "openssl is needed to issue certificates: install it (apt-get install openssl), then run this again."

dir=${CERTS_DIR:-$here/../certs}
mkdir -p "$dir/ca"
dir=$(cd "$dir" && pwd)
. "$here/pki-lib.sh"
days_ca=${CA_DAYS:-3650}

if [ "${FORCE:-0}" = 1 ]; then
  say "FORCE=1: re-issuing the CA and all certificates in $dir"
  rm -rf "$dir"/*.pem "$dir/clients" "$ca_dir"
  mkdir -p "$ca_dir"
fi

if [ ! -s "$dir/ca.pem" ]; then
  for leaf in server client; do
    [ -e "$dir/$leaf.pem" ] && die "$dir has $leaf.pem but no ca.pem: add the CA that issued it, or re-issue everything with FORCE=1."
  done
  say "issuing a new CA in $dir (ca.pem; key in ca/ca-key.pem)"
  new_key "$ca_dir/ca-key.pem"
  openssl req -x509 -new -key "$ca_dir/ca-key.pem" -sha256 -days "$days_ca" \
    -subj "/O=Dice Stack/CN=${CA_NAME:-Dice Stack CA}" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" \
    -out "$dir/ca.pem"
fi

issue_leaf() { # name
  local name=$1
  if [ -s "$dir/$name.pem" ] && [ -s "$dir/$name-key.pem" ]; then return; fi
  # An own CA (docs/certificates.md) keeps its key elsewhere: then every certificate must come from there.
  have_ca_key || die "$name.pem is missing and the CA key ($ca_dir/ca-key.pem) is not here to issue it: issue $name.pem and $name-key.pem with your CA (see docs/certificates.md, 'Using your own CA')."
  say "issuing $name.pem"
  "issue_${name}_leaf" "$dir/$name.pem" "$dir/$name-key.pem"
}

issue_leaf server
issue_leaf client

# nginx refuses every client once the CRL is past its next-update date, so each run re-signs it.
if have_ca_key; then
  update_crl
elif [ ! -s "$dir/crl.pem" ]; then
  die "crl.pem is missing and the CA key is not here to sign it: add your CA's CRL as crl.pem (see docs/certificates.md, 'Using your own CA')."
fi

if [ ! -s "$dir/edge-token" ]; then
  say "writing a new edge token (edge-token): the secret the edge adds to every call, so the server believes only the edge"
  (umask 077 && write_edge_token "$(new_edge_token)")
fi

protect_leaf_files
verify_leaves "$dir"
say "certificates ready in $dir"
