#!/usr/bin/env bash
# A client PKI as organisations run one, for the e2e suite: a root CA (pathlen 1) and an
# intermediate CA below it that issues the client certificates, each CA with its own CRL.
# Writes into DIR: root.pem, intermediate.pem, chain.pem (both, what the edge trusts), root-crl.pem,
# intermediate-crl.pem, and org-alice.pem / org-mallory.pem with keys (mallory revoked by the
# intermediate). Usage: organisation-pki.sh DIR
set -euo pipefail
dir=$1
mkdir -p "$dir/root" "$dir/intermediate"
cd "$dir"

key() { (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null); }
ca_database() { # dir cert key
  mkdir -p "$1/issued"; : >"$1/index.txt"; openssl rand -hex 16 >"$1/serial"; echo 1000 >"$1/crlnumber"
  cat >"$1/ca.cnf" <<CONF
[ ca ]
default_ca = this_ca
[ this_ca ]
database = $PWD/$1/index.txt
new_certs_dir = $PWD/$1/issued
certificate = $PWD/$2
private_key = $PWD/$3
serial = $PWD/$1/serial
crlnumber = $PWD/$1/crlnumber
default_md = sha256
default_days = 30
default_crl_days = 30
policy = any_subject
unique_subject = no
[ any_subject ]
organizationName = optional
commonName = supplied
CONF
}
sign() { # ca-dir csr out extension...
  local ext; ext=$(mktemp)
  printf '%s\n' "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid" "${@:4}" >"$ext"
  openssl ca -batch -notext -config "$1/ca.cnf" -extfile "$ext" -in "$2" -out "$3" 2>/dev/null
  rm -f "$ext"
}

key root/key.pem
openssl req -x509 -new -key root/key.pem -sha256 -days 30 -subj "/O=Example Org/CN=Example Org Root CA" \
  -addext "basicConstraints=critical,CA:TRUE,pathlen:1" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -addext "subjectKeyIdentifier=hash" -out root.pem
ca_database root root.pem root/key.pem

key intermediate/key.pem
openssl req -new -key intermediate/key.pem -subj "/O=Example Org/CN=Example Org Clients CA" -out intermediate/csr.pem
sign root intermediate/csr.pem intermediate.pem "basicConstraints=critical,CA:TRUE,pathlen:0" "keyUsage=critical,keyCertSign,cRLSign"
ca_database intermediate intermediate.pem intermediate/key.pem

for name in org-alice org-mallory; do
  key "$name-key.pem"
  openssl req -new -key "$name-key.pem" -subj "/O=Example Org/CN=$name" -out "intermediate/$name.csr"
  sign intermediate "intermediate/$name.csr" "$name.pem" "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" "extendedKeyUsage=clientAuth"
done
openssl ca -config intermediate/ca.cnf -revoke org-mallory.pem -crl_reason keyCompromise 2>/dev/null
openssl ca -gencrl -config root/ca.cnf -out root-crl.pem 2>/dev/null
openssl ca -gencrl -config intermediate/ca.cnf -out intermediate-crl.pem 2>/dev/null
cat root.pem intermediate.pem >chain.pem
chmod 0644 ./*.pem
