#!/bin/bash
# The edge's container health check (compose): nginx accepts connections on its TLS port, and the
# certificate it serves is not about to expire unrenewed. The alarm starts with a quarter of the
# certificate's lifetime left, at most a week before its end, as the renewer's does
# (scripts/pki-lib.sh, expiry_alarm_seconds): the renewer acts at a third, so reaching a quarter
# means renewals have been failing. Prints what is wrong, which `docker inspect` and `make ps` show.
# On a cluster the probes stay a plain TCP check: every edge replica failing readiness at once for a
# certificate that still works would turn a warning into an outage; alert on the renewal instead.
set -u
cert=${EDGE_SERVER_CERT:-/etc/nginx/certs/server.pem}
: 2>/dev/null >/dev/tcp/127.0.0.1/9443 || { echo "nginx accepts no connection on port 9443"; exit 1; }
when() { date -u -d "$(openssl x509 -noout "-$1" -in "$cert" | cut -d= -f2)" +%s; }
if ! from=$(when startdate 2>/dev/null) || ! until=$(when enddate 2>/dev/null); then
  echo "the server certificate $cert cannot be read"; exit 1
fi
left=$((until - $(date +%s)))
alarm=$(((until - from) / 4))
[ "$alarm" -le 604800 ] || alarm=604800
if [ "$left" -le 0 ]; then
  echo "the server certificate expired $((-left)) s ago: clients refuse the edge; renew it (make rotate-certs, or the renewer)"; exit 1
elif [ "$left" -lt "$alarm" ]; then
  echo "the server certificate expires in $left s and has not been renewed: renew it (make rotate-certs, or see the renewer's log)"; exit 1
fi
echo "serving; the server certificate has $left s left"
