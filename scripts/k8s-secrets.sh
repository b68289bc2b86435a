#!/usr/bin/env bash
# Turns certs/ into the four Secrets the manifests in deploy/ mount, as one YAML file for
# `kubectl apply -f` (written with `kubectl create secret --dry-run=client`, so no cluster is needed
# to make it). The file holds private keys: it is written 0600 under .build/, never committed.
#   dice-edge-tls     tls.crt, tls.key      nginx's server certificate and key
#   dice-client-ca    ca.crt, crl.pem       the CA client certificates must chain to, and its CRL
#   dice-webapp-tls   tls.crt, tls.key, ca.crt   the web app's client pair and the CA that signed nginx's certificate
#   dice-edge-token   edge-token            the secret the edge adds to every call and the server requires
# CERTS_DIR as for make-certs.sh; CLIENT_CA_FILE / CLIENT_CRL_FILE / SERVER_CA_FILE as in compose
# (by default the server CA is certs/ca.pem and the client CA certs/client-ca.pem, the same CA unless
# make certs TWO_CAS=1 made two); OUT for another output file.
# CERT_MANAGER=1 (deploy/cert-manager): cert-manager issues the two leaves, so instead of their
# Secrets it writes the CAs' key pairs its issuers sign with, in its namespace (CERT_MANAGER_NAMESPACE,
# default cert-manager):
#   dice-server-ca-keypair, dice-client-ca-keypair   tls.crt, tls.key   (the same CA twice with one CA)
# and dice-client-ca keeps the CRL the edge checks (cert-manager publishes none).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
root=$(cd "$here/.." && pwd)
dir=${CERTS_DIR:-$root/certs}
# The client CA: client-ca.pem (make certs writes it; a link to ca.pem with one CA).
client_ca=${CLIENT_CA_FILE:-$dir/client-ca.pem}
client_crl=${CLIENT_CRL_FILE:-$dir/crl.pem}
server_ca=${SERVER_CA_FILE:-$dir/ca.pem}
out=${OUT:-$root/.build/k8s-secrets.yaml}

command -v kubectl >/dev/null 2>&1 || die "kubectl is needed to write the Secrets (https://kubernetes.io/docs/tasks/tools/)."
for file in "$dir/server.pem" "$dir/server-key.pem" "$dir/client.pem" "$dir/client-key.pem" "$dir/edge-token" "$client_ca" "$client_crl" "$server_ca"; do
  [ -s "$file" ] || die "$file is missing: run make certs first (or set CLIENT_CA_FILE / CLIENT_CRL_FILE / SERVER_CA_FILE)."
done
openssl verify -CAfile "$server_ca" "$dir/server.pem" >/dev/null 2>&1 || die "$dir/server.pem is not signed by the server CA $server_ca."
openssl verify -CAfile "$client_ca" "$dir/client.pem" >/dev/null 2>&1 || die "$dir/client.pem is not signed by the client CA $client_ca."

secret() { kubectl create secret "$@" --dry-run=client --output=yaml; }
. "$here/pki-lib.sh"
mkdir -p "$(dirname "$out")"
tmp=$(umask 077 && mktemp "$out.XXXXXX")
trap 'rm -f "$tmp"' EXIT
# A CA's own certificate and key (pki-lib.sh's use_ca finds them), for cert-manager's CA issuer.
ca_pair() { # role secret-name
  use_ca "$1"
  have_ca_key || die "$ca_dir/ca-key.pem is missing: CERT_MANAGER=1 hands cert-manager the CA key; with your own CA, write $2 from it yourself (docs/certificates.md)."
  secret tls "$2" --namespace="${CERT_MANAGER_NAMESPACE:-cert-manager}" --cert="$ca_cert" --key="$ca_dir/ca-key.pem"
}
{
  echo "# Written by scripts/k8s-secrets.sh from $dir: private keys inside, never commit this file."
  if [ "${CERT_MANAGER:-0}" = 1 ]; then
    ca_pair server dice-server-ca-keypair
    echo "---"
    ca_pair client dice-client-ca-keypair
  else
    secret tls dice-edge-tls --cert="$dir/server.pem" --key="$dir/server-key.pem"
    echo "---"
    secret generic dice-webapp-tls --type=kubernetes.io/tls --from-file=tls.crt="$dir/client.pem" --from-file=tls.key="$dir/client-key.pem" --from-file=ca.crt="$server_ca"
  fi
  echo "---"
  secret generic dice-client-ca --from-file=ca.crt="$client_ca" --from-file=crl.pem="$client_crl"
  echo "---"
  secret generic dice-edge-token --from-file=edge-token="$dir/edge-token"
} >"$tmp"
chmod 0600 "$tmp"
mv "$tmp" "$out"
trap - EXIT
if [ "${CERT_MANAGER:-0}" = 1 ]; then
  say "Secrets dice-server-ca-keypair and dice-client-ca-keypair (namespace ${CERT_MANAGER_NAMESPACE:-cert-manager}), dice-client-ca and dice-edge-token written to $out"
else
  # Short-lived leaves (make certs: CERT_LIFETIME, 24h) have no renewer on a cluster.
  left=$(($(cert_time "$dir/server.pem" enddate) - $(date +%s)))
  [ "$left" -gt 2592000 ] || say "warning: server.pem expires in $(human_duration "$left"); nothing renews it on a cluster: use deploy/cert-manager, or issue longer-lived leaves (CERT_LIFETIME=397d make rotate-certs) and run this again"
  say "Secrets dice-edge-tls, dice-client-ca, dice-webapp-tls and dice-edge-token written to $out"
fi
say "apply them with: kubectl apply -n NAMESPACE -f $out   (again after make rotate-certs or make revoke)"
