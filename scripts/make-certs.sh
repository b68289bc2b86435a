#!/usr/bin/env bash
# Writes the project PKI with openssl: an ECDSA P-256 CA, the edge's server certificate and the web
# app's client certificate, under the tutorial's file names. Existing files are kept; FORCE=1
# re-issues everything (a new CA too).
#
#   CERTS_DIR   where to write (default: certs/ of this checkout)
#   FORCE=1     replace what exists
#   CA_NAME     the new CA's common name (default "Dice Stack CA"; "Dice Servers CA" with TWO_CAS=1)
#   TWO_CAS=1   a new PKI with two CAs: the server CA (ca.pem) signs the edge's certificate, the
#               client CA (client-ca.pem, CLIENT_CA_NAME, default "Dice Clients CA") the client
#               certificates; crl.pem is the client CA's CRL, server-crl.pem the server CA's
#   CERT_LIFETIME     how long server.pem and client.pem live (default 24h; 90s, 15m, 30d...)
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
  rm -rf "$dir"/*.pem "$dir/clients" "$dir/ca" "$dir/client-ca"
  mkdir -p "$dir/ca"
fi
# TWO_CAS=1 on a new PKI: a client CA apart from the server CA (an existing PKI keeps its layout).
if [ "${TWO_CAS:-0}" = 1 ] && [ ! -s "$dir/ca.pem" ]; then mkdir -p "$dir/client-ca"; fi

new_ca() { # role name: a self-signed CA into ca_cert, its key into ca_dir
  use_ca "$1"
  say "issuing a new $1 CA in $dir ($(basename "$ca_cert"); key in $(basename "$ca_dir")/ca-key.pem): $2"
  new_key "$ca_dir/ca-key.pem"
  openssl req -x509 -new -key "$ca_dir/ca-key.pem" -sha256 -days "$days_ca" \
    -subj "/O=Dice Stack/CN=$2" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" \
    -out "$ca_cert"
}

if [ ! -s "$dir/ca.pem" ]; then
  for leaf in server client; do
    [ -e "$dir/$leaf.pem" ] && die "$dir has $leaf.pem but no ca.pem: add the CA that issued it, or re-issue everything with FORCE=1."
  done
  if two_cas; then
    # Certificates and CRLs are matched to their CA by name, so the two must differ.
    new_ca server "${CA_NAME:-Dice Servers CA}"
    new_ca client "${CLIENT_CA_NAME:-Dice Clients CA}"
  else
    new_ca server "${CA_NAME:-Dice Stack CA}"
  fi
fi
# One CA: it is the client CA too (compose mounts client-ca.pem for nginx).
two_cas || [ -e "$dir/client-ca.pem" ] || ln -s ca.pem "$dir/client-ca.pem"

issue_leaf() { # name role
  local name=$1
  use_ca "$2"
  if [ -s "$dir/$name.pem" ] && [ -s "$dir/$name-key.pem" ]; then
    # A leaf past its renewal point (the stack was down while the renewer would have renewed it) is
    # renewed now, in place, so `make up` never starts with one about to expire.
    renewal_due "$dir/$name.pem" && have_ca_key || return 0
    say "renewing $name.pem from the $2 CA: $(human_duration $(($(cert_time "$dir/$name.pem" enddate) - $(date +%s)))) was left"
    reissue_leaf "$name"
    return
  fi
  # An own CA (docs/certificates.md) keeps its key elsewhere: then every certificate must come from there.
  have_ca_key || die "$name.pem is missing and the CA key ($ca_dir/ca-key.pem) is not here to issue it: issue $name.pem and $name-key.pem with your CA (see docs/certificates.md, 'Using your own CA')."
  say "issuing $name.pem from the $2 CA (valid for ${CERT_LIFETIME:-24h}; the renewer renews it while the stack runs)"
  "issue_${name}_leaf" "$dir/$name.pem" "$dir/$name-key.pem"
}

issue_leaf server server
issue_leaf client client

# nginx refuses every client once the CRL is past its next-update date, so each run re-signs it
# (both CRLs with two CAs: crl.pem, the client CA's, which the edge checks, and server-crl.pem).
for role in $(two_cas && echo server client || echo client); do
  use_ca "$role"
  if have_ca_key; then
    update_crl
  elif [ ! -s "$crl_file" ]; then
    die "$(basename "$crl_file") is missing and the CA key is not here to sign it: add your CA's CRL as $(basename "$crl_file") (see docs/certificates.md, 'Using your own CA')."
  fi
done

if [ ! -s "$dir/edge-token" ]; then
  say "writing a new edge token (edge-token): the secret the edge adds to every call, so the server believes only the edge"
  (umask 077 && write_edge_token "$(new_edge_token)")
fi

protect_leaf_files
verify_leaves "$dir"
say "certificates ready in $dir"
