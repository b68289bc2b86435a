#!/usr/bin/env bash
# Issues a client certificate from the client CA (the project CA, when there is one): certs/clients/NAME.pem and NAME-key.pem, with
# CN=NAME (the identity the server's ACCESS_POLICY names) and EKU clientAuth.
# Usage: client-cert.sh NAME
#   SAN          subject alternative names as openssl writes them, like URI:spiffe://dice.example/alice,DNS:alice.example
#                (the identities EDGE_ACCESS_POLICY names as uri:... and dns:..., beside cn:NAME)
#   CERTS_DIR    the PKI (default: certs/ of this checkout)
#   LEAF_DAYS    validity in days (default 397)
#   FORCE=1      replace an existing certificate of that name
#   VALID_FROM / VALID_UNTIL (YYYYMMDDHHMMSSZ), EKU, ISSUER=server: for test certificates (expired, not yet valid,
#                without clientAuth) that show how the edge refuses them
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
name=${1:-}
[[ "$name" =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$ ]] || die "NAME must be 1-64 letters, digits, dots, dashes or underscores, starting with a letter or digit (got '$name'): make client-cert NAME=alice"

dir=$(existing_pki_dir ca.pem "No CA")
. "$here/pki-lib.sh"
# The client CA (the only CA with one). ISSUER=server issues from the server CA instead: a test
# certificate the edge must refuse, since it trusts only the client CA.
use_ca "${ISSUER:-client}"
have_ca_key || die "The CA key ($ca_dir/ca-key.pem) is not here: issue client certificates with your own CA."

mkdir -p "$dir/clients"
cert="$dir/clients/$name.pem"
if [ -e "$cert" ] && [ "${FORCE:-0}" != 1 ]; then
  die "$cert exists: replace it with FORCE=1 (and revoke the old one first if it may be in use: make revoke NAME=$name)."
fi
san=${SAN:-}
[ -z "$san" ] || [[ "$san" =~ ^((URI|DNS):[A-Za-z0-9._~:/@!+=%-]+)(,(URI|DNS):[A-Za-z0-9._~:/@!+=%-]+)*$ ]] \
  || die "SAN must be URI:... or DNS:... names separated by commas, like URI:spiffe://dice.example/$name (got '$san')"
issue_cert "$cert" "$dir/clients/$name-key.pem" "/O=Dice Stack/CN=$name" "extendedKeyUsage=${EKU:-clientAuth}" ${san:+"subjectAltName=$san"}
say "issued $cert (key: clients/$name-key.pem); CN=$name${san:+, $san}"
