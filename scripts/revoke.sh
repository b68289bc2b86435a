#!/usr/bin/env bash
# Revokes a client certificate issued by client-cert.sh and re-signs the client CA's CRL (certs/crl.pem).
# nginx reads the CRL at start and on reload; `make revoke` reloads it for you.
# Usage: revoke.sh NAME        (CERTS_DIR as for make-certs.sh)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
name=${1:-}
[ -n "$name" ] || die "NAME is required: make revoke NAME=alice"
dir=$(existing_pki_dir ca.pem "No CA")
. "$here/pki-lib.sh"
use_ca client
have_ca_key || die "The CA key ($ca_dir/ca-key.pem) is not here: revoke with your own CA and replace crl.pem."

cert="$dir/clients/$name.pem"
# The web app's own certificate can be revoked too (then re-issue it: rm certs/client*.pem; make certs).
[ ! -e "$cert" ] && [ "$name" = dice-webapp ] && cert="$dir/client.pem"
[ -s "$cert" ] || die "No certificate for '$name' ($cert): see certs/clients/ for the names issued."
config=$(ca_config)
# Revoking twice is not an error: the CRL is re-signed either way.
if ! out=$(openssl ca -config "$config" -revoke "$cert" -crl_reason cessationOfOperation 2>&1); then
  grep -qi 'already revoked' <<<"$out" || { rm -f "$config"; die "openssl could not revoke $cert: $out"; }
fi
rm -f "$config"
update_crl
say "revoked $name (serial $(openssl x509 -noout -serial -in "$cert" | cut -d= -f2)); CRL re-signed: $dir/crl.pem"
