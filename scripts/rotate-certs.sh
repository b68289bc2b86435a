#!/usr/bin/env bash
# Replaces the edge's server certificate and the web app's client certificate (new keys too) with
# fresh ones from the same CA (each from its own, with two). Clients that trust ca.pem notice nothing. nginx serves the new server
# certificate after a reload (`make rotate-certs` reloads it); the web app watches its files and
# switches by itself. The old certificates stay valid until they expire: revoke them if they leaked.
#   CERTS_DIR   as for make-certs.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
dir=$(existing_pki_dir ca.pem "There is nothing to rotate")
. "$here/pki-lib.sh"
lock_pki
staging=$(mktemp -d "$dir/.rotate.XXXXXX")
trap 'rm -rf "$staging"' EXIT
# Each leaf from its own CA (the same one, with one CA).
for role in server client; do
  use_ca "$role"
  have_ca_key || die "The $role CA key ($ca_dir/ca-key.pem) is not here: issue the new certificates with your own CA, then copy them over the old ones."
  "issue_${role}_leaf" "$staging/$role.pem" "$staging/$role-key.pem" "$dir/$role.pem"
done
verify_leaves "$staging"
install_leaf "$staging" server
install_leaf "$staging" client
protect_leaf_files
say "rotated in $dir: server.pem (serial $(cert_serial "$dir/server.pem")) and client.pem (serial $(cert_serial "$dir/client.pem")), from the same CA(s)"
