# Shared by the certificate scripts: the CA's openssl configuration, leaf issuance and the CRL.
# Expects lib.sh sourced and $dir (the certs directory) set.
# shellcheck shell=bash

# One CA, or two (make certs TWO_CAS=1): the server CA signs the edge's certificate (ca.pem, key and
# database in ca/), the client CA the client certificates (client-ca.pem, client-ca/). With one CA,
# client-ca.pem is a link to ca.pem and both roles use ca/. use_ca picks the CA the next step
# issues from: ca_dir, ca_cert and crl_file (the client CA's CRL is crl.pem, the one the edge checks).
two_cas() { [ -d "$dir/client-ca" ]; }
use_ca() { # server | client
  if [ "$1" = client ] && two_cas; then
    ca_dir="$dir/client-ca" ca_cert="$dir/client-ca.pem" crl_file="$dir/crl.pem"
  elif [ "$1" = server ] && two_cas; then
    ca_dir="$dir/ca" ca_cert="$dir/ca.pem" crl_file="$dir/server-crl.pem"
  else
    ca_dir="$dir/ca" ca_cert="$dir/ca.pem" crl_file="$dir/crl.pem"
  fi
}
use_ca server

# KEY_TYPE=rsa makes RSA-2048 keys instead of ECDSA P-256 (make bench compares the two).
new_key() { # path
  local algorithm=(-algorithm EC -pkeyopt ec_paramgen_curve:P-256)
  [ "${KEY_TYPE:-ecdsa}" = rsa ] && algorithm=(-algorithm RSA -pkeyopt rsa_keygen_bits:2048)
  (umask 077 && openssl genpkey "${algorithm[@]}" -out "$1" 2>/dev/null)
  chmod 0600 "$1"
}

have_ca_key() { [ -s "$ca_dir/ca-key.pem" ]; }

# openssl ca needs a database (index.txt, serial, crlnumber) to revoke and to sign CRLs; it is made
# on first use, so a PKI from an earlier version of this script gains one too.
ca_config() { # prints the path of a temporary openssl ca configuration
  [ -e "$ca_dir/index.txt" ] || : >"$ca_dir/index.txt"
  [ -s "$ca_dir/serial" ] || openssl rand -hex 16 >"$ca_dir/serial"
  [ -s "$ca_dir/crlnumber" ] || echo 1000 >"$ca_dir/crlnumber"
  mkdir -p "$ca_dir/issued"
  local config; config=$(mktemp)
  cat >"$config" <<CONF
[ ca ]
default_ca = project_ca
[ project_ca ]
database = $ca_dir/index.txt
new_certs_dir = $ca_dir/issued
certificate = $ca_cert
private_key = $ca_dir/ca-key.pem
serial = $ca_dir/serial
crlnumber = $ca_dir/crlnumber
default_md = sha256
default_days = ${LEAF_DAYS:-397}
default_crl_days = ${CRL_DAYS:-365}
policy = any_subject
unique_subject = no
preserve = yes
[ any_subject ]
organizationName = optional
commonName = supplied
CONF
  echo "$config"
}

# issue_cert CERT_PATH KEY_PATH SUBJECT EXTENSION...
# Validity: LEAF_DAYS, or VALID_FROM/VALID_UNTIL (YYYYMMDDHHMMSSZ) for test certificates.
issue_cert() {
  local cert=$1 key=$2 subject=$3; shift 3
  local config ext csr; config=$(ca_config); ext=$(mktemp); csr=$(mktemp)
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
    "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid" "$@" >"$ext"
  local dates=()
  [ -n "${VALID_FROM:-}" ] && dates+=(-startdate "$VALID_FROM")
  [ -n "${VALID_UNTIL:-}" ] && dates+=(-enddate "$VALID_UNTIL")
  new_key "$key"
  openssl req -new -key "$key" -subj "$subject" -out "$csr"
  openssl ca -batch -notext -config "$config" -extfile "$ext" "${dates[@]}" -in "$csr" -out "$cert" 2>"$csr.log" \
    || { cat "$csr.log" >&2; rm -f "$config" "$ext" "$csr" "$csr.log"; die "openssl could not issue $cert"; }
  rm -f "$config" "$ext" "$csr" "$csr.log"
  chmod 0644 "$cert"
}

# Signs a fresh CRL from the CA database. Written in place (not renamed) so the file nginx has
# bind-mounted is the one that changes.
update_crl() {
  local config tmp; config=$(ca_config); tmp=$(mktemp)
  openssl ca -gencrl -config "$config" -out "$tmp" 2>/dev/null || { rm -f "$config" "$tmp"; die "openssl could not sign the CRL"; }
  cat "$tmp" >"$crl_file"
  chmod 0644 "$crl_file"
  rm -f "$config" "$tmp"
}

# The two leaves the stack runs with, shared by make-certs.sh and rotate-certs.sh.
# issue_server_leaf / issue_client_leaf CERT_PATH KEY_PATH
# The edge's names: nginx (compose), dice-edge (its Service in a cluster), localhost, and whatever
# EDGE_DNS_NAMES adds (space-separated), e.g. the LoadBalancer's or the passthrough Route's host name.
issue_server_leaf() {
  local names=DNS:nginx,DNS:dice-edge,DNS:localhost,IP:127.0.0.1 name
  for name in ${EDGE_DNS_NAMES:-}; do
    [[ $name =~ ^[A-Za-z0-9*]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]] || die "EDGE_DNS_NAMES holds '$name', which is not a DNS name."
    names+=",DNS:$name"
  done
  issue_cert "$1" "$2" "/O=Dice Stack/CN=nginx" "extendedKeyUsage=serverAuth" "subjectAltName=$names"
}
issue_client_leaf() {
  issue_cert "$1" "$2" "/O=Dice Stack/CN=dice-webapp" "extendedKeyUsage=clientAuth"
}

# Certificates world-readable, keys 0600; as root, the keys go to the unprivileged id the containers
# run as (APP_UID/APP_GID, default 10001, as in prepare-build.sh), so they can stay 0600.
protect_leaf_files() {
  chmod 0644 "$dir"/ca.pem "$dir"/client-ca.pem "$dir"/server.pem "$dir"/client.pem
  chmod 0700 "$dir/ca"
  if two_cas; then chmod 0700 "$dir/client-ca"; fi
  chmod 0600 "$dir"/server-key.pem "$dir"/client-key.pem "$dir"/edge-token
  if is_root; then
    chown "${APP_UID:-10001}:${APP_GID:-${APP_UID:-10001}}" "$dir"/server-key.pem "$dir"/client-key.pem "$dir"/edge-token
  fi
}

# The secret the edge adds to every call it forwards and the server requires (server/src/edge-tokens.ts):
# 32 random bytes in hex, one token per line. Written in place (the compose mounts follow the file,
# not a name), in one write, so a reader sees the old content or the new, or an empty file it refuses.
write_edge_token() { # tokens...
  printf '%s\n' "$@" >"$dir/edge-token"
}
new_edge_token() { openssl rand -hex 32; }

verify_leaves() { # dir holding server.pem and client.pem
  openssl verify -CAfile "$dir/ca.pem" "$1/server.pem" >/dev/null || die "$1/server.pem does not verify against ca.pem (the server CA); re-issue with FORCE=1."
  openssl verify -CAfile "$dir/client-ca.pem" "$1/client.pem" >/dev/null || die "$1/client.pem does not verify against client-ca.pem (the client CA); re-issue with FORCE=1."
}
