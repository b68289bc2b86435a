#!/usr/bin/env bash
# Replaces the CA (both, with TWO_CAS) without a failed call, in three steps; STEP=1, 2 or 3 runs one
# (each checks that the one before it ran), and with no STEP all three run one after the other:
#   1. trust    a new CA beside the old one in every trust file: ca.pem (what clients trust the edge
#               by), client-ca.pem (what the edge trusts clients by) and the CRL files, one CRL per CA
#   2. issue    the new CA issues from now on (the old one's directory is kept as ca.retired-DATE):
#               new server.pem and client.pem from it; the renewer renews from it too
#   3. retire   the old CA leaves the trust files: a certificate it issued is refused from then on
# After each step it waits until nginx has reloaded and every web app replica has re-read its files
# (their logs say so): nobody is shown a certificate from a CA it does not trust yet. With no stack
# running it goes through the steps at once.
# Clients outside the stack are yours to move: after step 1 they must trust the new ca.pem (both
# CAs), and before step 3 hold a certificate from the new CA (make client-cert NAME=...) — run the
# steps one at a time (STEP=1, 2, 3) to make room for that.
#   CERTS_DIR             as for make-certs.sh
#   NEW_CA_NAME           the new CA's common name (default: the old one's, dated now);
#   NEW_CLIENT_CA_NAME    the new client CA's, with two CAs
#   COMPOSE_PROJECT_NAME  the running stack (compose's own variable)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
dir=$(existing_pki_dir ca.pem "There is no CA to rotate")
. "$here/pki-lib.sh"
state_file="$dir/.ca-rotation"
roles=(server)
if two_cas; then roles=(server client); fi
done_step=$(cat "$state_file" 2>/dev/null || echo 0)
for role in "${roles[@]}"; do
  use_ca "$role"
  have_ca_key || die "The $role CA key ($ca_dir/ca-key.pem) is not here: with your own CA, rotate it there (docs/certificates.md gives the steps)."
done

wait_for_stack() { # since what-changed
  local webapps meanwhile="both CAs are trusted, so no call fails meanwhile"
  if [ "$(running_replicas nginx)" -eq 0 ]; then say "no edge is running: it reads the files when it starts"; return; fi
  say "waiting until nginx has reloaded and the web app has re-read its files ($2)"
  wait_for_log nginx 'certificate files changed; reloading nginx' 1 "$1" "nginx reloading with $2" "$meanwhile"
  webapps=$(running_replicas webapp)
  if [ "$webapps" -gt 0 ]; then
    wait_for_log webapp 'client certificate reloaded' "$webapps" "$1" "every web app replica re-reading $2" "$meanwhile"
  fi
}
write_in_place() { # file content-file: the mounts follow the file, not a name
  cat "$2" >"$1"
}
cn_of() { openssl x509 -noout -subject -nameopt multiline -in "$1" | sed -n 's/^ *commonName *= *//p'; }

step_trust() {
  local role next name bundle since
  since=$(now_for_logs)
  lock_pki
  for role in "${roles[@]}"; do
    use_ca "$role"
    next="$ca_dir.next"
    rm -rf "$next" && mkdir -p "$next" && chmod 0700 "$next"
    # A name apart from the old CA's: certificates and CRLs are matched to their CA by name.
    name="$(cn_of "$ca_cert" | sed -E 's/ [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]+$//') $(date -u +%Y-%m-%dT%H:%M:%S)"
    if [ "$role" = server ]; then name=${NEW_CA_NAME:-$name}; else name=${NEW_CLIENT_CA_NAME:-$name}; fi
    new_key "$next/ca-key.pem"
    openssl req -x509 -new -key "$next/ca-key.pem" -sha256 -days "${CA_DAYS:-3650}" -subj "/O=Dice Stack/CN=$name" \
      -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -addext "subjectKeyIdentifier=hash" -out "$next/ca-cert.pem"
    # The old CA's own certificate, kept with its key, so the trust file can lose it in step 3.
    [ -s "$ca_dir/ca-cert.pem" ] || openssl x509 -in "$ca_cert" -out "$ca_dir/ca-cert.pem"
    bundle=$(mktemp)
    cat "$ca_dir/ca-cert.pem" "$next/ca-cert.pem" >"$bundle"
    write_in_place "$trust_file" "$bundle"
    rm -f "$bundle"
    # The new CA's (empty) CRL beside the old one's.
    ca_dir=$next ca_cert="$next/ca-cert.pem" update_crl
    say "step 1 of 3: $(basename "$trust_file") trusts the old $role CA and the new one, \"$name\""
  done
  protect_leaf_files
  chown_next
  echo 1 >"$state_file"
  unlock_pki
  wait_for_stack "$since" "the trust files with both CAs"
}
chown_next() {
  local role
  if ! is_root; then return; fi
  for role in "${roles[@]}"; do
    use_ca "$role"
    if [ -d "$ca_dir.next" ]; then chown -R "${APP_UID:-10001}:${APP_GID:-${APP_UID:-10001}}" "$ca_dir.next"; fi
  done
}

step_issue() {
  local role retired since stamp
  since=$(now_for_logs) stamp=$(date -u +%Y%m%dT%H%M%S)
  lock_pki
  for role in "${roles[@]}"; do
    use_ca "$role"
    [ -s "$ca_dir.next/ca-cert.pem" ] || die "There is no new $role CA ($ca_dir.next): run step 1 first (STEP=1)."
    retired="$ca_dir.retired-$stamp"
    mv "$ca_dir" "$retired"
    mv "$ca_dir.next" "$ca_dir"
    say "step 2 of 3: the new $role CA issues from now on; the old one is kept in $(basename "$retired")"
  done
  # Both CAs are trusted everywhere since step 1, so the two leaves may move one after the other.
  for role in server client; do
    use_ca "$role"
    reissue_leaf "$role"
  done
  protect_leaf_files
  echo 2 >"$state_file"
  unlock_pki
  say "step 2 of 3: server.pem (serial $(cert_serial "$dir/server.pem")) and client.pem (serial $(cert_serial "$dir/client.pem")) come from the new CA"
  wait_for_stack "$since" "the certificates from the new CA"
}

step_retire() {
  local role since
  since=$(now_for_logs)
  lock_pki
  # A leaf from the old CA (a renewal that raced step 2) would be refused once the old CA is gone.
  for role in server client; do
    use_ca "$role"
    openssl verify -CAfile "$ca_cert" "$dir/$role.pem" >/dev/null 2>&1 ||
      die "$role.pem is not from the new CA yet (renewed by the old one meanwhile?): run STEP=2 again, then STEP=3."
  done
  for role in "${roles[@]}"; do
    use_ca "$role"
    write_in_place "$trust_file" "$ca_cert"
    ONLY_THIS_CRL=1 update_crl
    say "step 3 of 3: the old $role CA is no longer trusted: $(basename "$trust_file") holds \"$(cn_of "$ca_cert")\" alone"
  done
  protect_leaf_files
  rm -f "$state_file"
  unlock_pki
  wait_for_stack "$since" "the trust files without the old CA"
}

case "${STEP:-all}" in
  1) step_trust ;;
  2) [ "$done_step" = 1 ] || die "Step 2 issues from the new CA, which step 1 makes and makes trusted first: run STEP=1."
     step_issue ;;
  3) [ "$done_step" = 2 ] || die "Step 3 removes the old CA, which is safe only once step 2 has moved every certificate to the new one: run STEP=$((done_step + 1))."
     step_retire ;;
  all) [ "$done_step" = 0 ] || die "A rotation is halfway (step $done_step done): go on with STEP=$((done_step + 1))."
       step_trust; step_issue; step_retire
       say "the CA is replaced; certificates from the old one are refused from now on" ;;
  *) die "STEP must be 1, 2 or 3 (or unset for all three), not '$STEP'." ;;
esac
