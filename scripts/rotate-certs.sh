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
staging=$(mktemp -d "$dir/.rotate.XXXXXX")
trap 'rm -rf "$staging"' EXIT
# Each leaf from its own CA (the same one, with one CA).
for role in server client; do
  use_ca "$role"
  have_ca_key || die "The $role CA key ($ca_dir/ca-key.pem) is not here: issue the new certificates with your own CA, then copy them over the old ones."
  "issue_${role}_leaf" "$staging/$role.pem" "$staging/$role-key.pem"
done
verify_leaves "$staging"

# Written in place, not renamed: the containers bind-mount these files, and a renamed file would leave
# them reading the old inode. The web app checks that certificate and key match before using them.
for file in server-key.pem server.pem client-key.pem client.pem; do
  cat "$staging/$file" >"$dir/$file"
done
protect_leaf_files
serial() { openssl x509 -noout -serial -in "$1" | cut -d= -f2; }
say "rotated in $dir: server.pem (serial $(serial "$dir/server.pem")) and client.pem (serial $(serial "$dir/client.pem")), from the same CA(s)"
