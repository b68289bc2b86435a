# Shared by the certificate scripts: the CA's openssl configuration, leaf issuance and the CRL.
# Expects lib.sh sourced and $dir (the certs directory) set.
# shellcheck shell=bash

# One CA, or two (make certs TWO_CAS=1): the server CA signs the edge's certificate (ca.pem, key and
# database in ca/), the client CA the client certificates (client-ca.pem, client-ca/). With one CA,
# client-ca.pem is a link to ca.pem and both roles use ca/. use_ca picks the CA the next step
# issues from: ca_dir, trust_file (what peers trust it by: ca.pem or client-ca.pem), ca_cert (the
# CA's own certificate: ca_dir/ca-cert.pem once make rotate-ca has run, when the trust file may hold
# two CAs, else the trust file) and crl_file (the client CA's CRL is crl.pem, the one the edge checks).
two_cas() { [ -d "$dir/client-ca" ]; }
use_ca() { # server | client
  if [ "$1" = client ] && two_cas; then
    ca_dir="$dir/client-ca" trust_file="$dir/client-ca.pem" crl_file="$dir/crl.pem"
  elif [ "$1" = server ] && two_cas; then
    ca_dir="$dir/ca" trust_file="$dir/ca.pem" crl_file="$dir/server-crl.pem"
  else
    ca_dir="$dir/ca" trust_file="$dir/ca.pem" crl_file="$dir/crl.pem"
  fi
  ca_cert=$trust_file
  if [ -s "$ca_dir/ca-cert.pem" ]; then ca_cert="$ca_dir/ca-cert.pem"; fi
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
# bind-mounted is the one that changes. The file holds one CRL per CA the edge trusts (two while
# make rotate-ca overlaps an old and a new CA): the CRLs of other issuers stay as they are, unless
# ONLY_THIS_CRL=1 (the old CA leaving).
update_crl() {
  local config tmp others; config=$(ca_config); tmp=$(mktemp); others=$(mktemp)
  openssl ca -gencrl -config "$config" -out "$tmp" 2>/dev/null || { rm -f "$config" "$tmp" "$others"; die "openssl could not sign the CRL"; }
  if [ -s "$crl_file" ] && [ "${ONLY_THIS_CRL:-0}" != 1 ]; then other_crls "$crl_file" "$(openssl x509 -noout -subject -in "$ca_cert")" >"$others"; fi
  cat "$others" "$tmp" >"$crl_file"
  chmod 0644 "$crl_file"
  rm -f "$config" "$tmp" "$others"
}
other_crls() { # crl-file "subject=..." : the PEM CRLs in the file whose issuer is not that subject
  local block="" line
  while IFS= read -r line; do
    block+="$line"$'\n'
    if [ "$line" = "-----END X509 CRL-----" ]; then
      [ "$(printf '%s' "$block" | openssl crl -noout -issuer | sed 's/^issuer=/subject=/')" = "$2" ] || printf '%s' "$block"
      block=""
    fi
  done <"$1"
}

openssl_time() { date -u -d "@$1" +%Y%m%d%H%M%SZ; }
cert_time() { # pem startdate|enddate|lastupdate|nextupdate: the date as seconds since the epoch
  local kind=x509
  case $2 in lastupdate | nextupdate) kind=crl ;; esac
  date -u -d "$(openssl "$kind" -noout "-$2" -in "$1" | cut -d= -f2)" +%s
}
cert_serial() { openssl x509 -noout -serial -in "$1" | cut -d= -f2; }

# How long the stack's own leaves (server.pem, client.pem) live: CERT_LIFETIME, 24 hours by default,
# renewed by the renewer (renew-certificates.sh) once a third of that is left (CERT_RENEW_BEFORE).
# They start a minute back, so a peer whose clock is a little behind does not see them as not yet valid.
leaf_lifetime() { duration_seconds CERT_LIFETIME "${CERT_LIFETIME:-24h}"; }
with_leaf_validity() { # command...: runs it with VALID_FROM/VALID_UNTIL for a new leaf, unless a test set them
  local now lifetime; now=$(date +%s); lifetime=$(leaf_lifetime)
  VALID_FROM=${VALID_FROM:-$(openssl_time $((now - 60)))} VALID_UNTIL=${VALID_UNTIL:-$(openssl_time $((now + lifetime)))} "$@"
}
# How long before a leaf's end it is renewed: CERT_RENEW_BEFORE, or a third of its own lifetime (as
# cert-manager does), so a certificate issued for a year is renewed after eight months.
renew_before() { # pem
  if [ -n "${CERT_RENEW_BEFORE:-}" ]; then duration_seconds CERT_RENEW_BEFORE "$CERT_RENEW_BEFORE"
  else echo $((($(cert_time "$1" enddate) - $(cert_time "$1" startdate)) / 3)); fi
}
renewal_due() { # pem
  [ $(($(cert_time "$1" enddate) - $(date +%s))) -lt "$(renew_before "$1")" ]
}
# The point where a leaf that should have been renewed becomes an alarm (health checks fail, logs
# warn): a quarter of its lifetime left, at most a week. The renewer acts at a third, so this means
# renewals have failed for a twelfth of the lifetime (2 hours of a 24-hour certificate).
expiry_alarm_seconds() { # pem
  local quarter=$((($(cert_time "$1" enddate) - $(cert_time "$1" startdate)) / 4))
  echo $((quarter < 604800 ? quarter : 604800))
}

# The two leaves the stack runs with, shared by make-certs.sh, rotate-certs.sh and the renewer.
# issue_server_leaf / issue_client_leaf CERT_PATH KEY_PATH [CURRENT_CERT]
# The edge's names: nginx (compose), dice-edge (its Service in a cluster), localhost, and whatever
# EDGE_DNS_NAMES adds (space-separated), e.g. the LoadBalancer's or the passthrough Route's host name;
# without EDGE_DNS_NAMES a renewal keeps the names of the certificate it replaces (CURRENT_CERT).
issue_server_leaf() {
  local names=DNS:nginx,DNS:dice-edge,DNS:localhost,IP:127.0.0.1 name
  for name in ${EDGE_DNS_NAMES:-}; do
    [[ $name =~ ^[A-Za-z0-9*]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]] || die "EDGE_DNS_NAMES holds '$name', which is not a DNS name."
    names+=",DNS:$name"
  done
  if [ -z "${EDGE_DNS_NAMES:-}" ] && [ -n "${3:-}" ] && [ -s "$3" ]; then
    names=$(openssl x509 -noout -ext subjectAltName -in "$3" | sed -n 2p | sed -E 's/IP Address:/IP:/g; s/[[:space:]]//g')
  fi
  with_leaf_validity issue_cert "$1" "$2" "/O=Dice Stack/CN=nginx" "extendedKeyUsage=serverAuth" "subjectAltName=$names"
}
issue_client_leaf() {
  with_leaf_validity issue_cert "$1" "$2" "/O=Dice Stack/CN=dice-webapp" "extendedKeyUsage=clientAuth"
}

# One writer of the PKI at a time: the renewer, make rotate-ca and make rotate-certs hold this lock
# while they change files, so a renewal never lands halfway through a CA swap. Opened read-only
# (flock needs no more), so the renewer's user can take it in a directory it cannot write.
lock_pki() {
  [ -e "$dir/.pki-lock" ] || : >"$dir/.pki-lock" 2>/dev/null || return 0
  exec 9<"$dir/.pki-lock"
  flock 9
}
unlock_pki() { flock -u 9 2>/dev/null || :; }

# Renews NAME.pem (server or client) from the CA use_ca picked: a new key, the current certificate's
# names, checked against the CA, then written in place. make certs, the renewer and make rotate-ca
# renew this way.
reissue_leaf() { # name
  local staging; staging=$(mktemp -d)
  if ! "issue_${1}_leaf" "$staging/$1.pem" "$staging/$1-key.pem" "$dir/$1.pem" || ! openssl verify -CAfile "$ca_cert" "$staging/$1.pem" >/dev/null; then
    rm -rf "$staging"
    die "the new $1.pem does not verify against its CA ($ca_cert)"
  fi
  install_leaf "$staging" "$1"
  rm -rf "$staging"
}

# Replaces NAME.pem and NAME-key.pem in $dir with the pair in STAGING. Written in place, not renamed:
# the containers bind-mount these files, and a renamed file would leave them reading the old inode.
# The key first: nginx's watcher and the web app both wait for a pair that matches.
install_leaf() { # staging-dir name
  cat "$1/$2-key.pem" >"$dir/$2-key.pem"
  cat "$1/$2.pem" >"$dir/$2.pem"
}

# Certificates world-readable, keys 0600; as root, the keys go to the unprivileged id the containers
# run as (APP_UID/APP_GID, default 10001, as in prepare-build.sh), so they can stay 0600.
protect_leaf_files() {
  chmod 0644 "$dir"/ca.pem "$dir"/client-ca.pem "$dir"/server.pem "$dir"/client.pem
  chmod 0700 "$dir/ca"
  if two_cas; then chmod 0700 "$dir/client-ca"; fi
  chmod 0600 "$dir"/server-key.pem "$dir"/client-key.pem "$dir"/edge-token
  if is_root; then
    local owner="${APP_UID:-10001}:${APP_GID:-${APP_UID:-10001}}" file
    chown "$owner" "$dir"/server-key.pem "$dir"/client-key.pem "$dir"/edge-token
    # The renewer (compose's renewer service) runs as that user too: it rewrites the leaves and CRLs
    # in place and signs with the CA, so those and the CA's directory are its own.
    chown "$owner" "$dir"/server.pem "$dir"/client.pem
    [ -e "$dir/.pki-lock" ] || : >"$dir/.pki-lock"
    for file in "$dir"/crl.pem "$dir"/server-crl.pem; do if [ -f "$file" ]; then chown "$owner" "$file"; fi; done
    chown -R "$owner" "$dir/ca"
    # ...and it must reach them: a directory made 0700 by root (mktemp -d) lets it through, listing nothing.
    chmod o+x "$dir"
    if two_cas; then chown -R "$owner" "$dir/client-ca"; fi
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
