#!/bin/sh
# Renders EDGE_ACCESS_POLICY (validated against edge-settings.tsv by render-edge-settings.sh, which
# runs this) into the map conf.d/access-policy.conf decides by: for each method path, the identities
# that may call it (" cn:a uri:b "), "-" for nobody, empty for every verified client. A rule for a
# method is taken before its service's, which is taken before "*"; with rules but no "*", a method no
# rule names is refused, as the server's ACCESS_POLICY does. A rule naming something this edge does
# not route (EDGE_METHODS_FILE, rendered from routes.yaml) stops the container: it would guard nothing.
# Usage: render-access-policy.sh OUT_FILE
set -eu
out=${1:?usage: render-access-policy.sh OUT_FILE}
[ -r "$EDGE_METHODS_FILE" ] || { echo "nginx: configuration error: EDGE_METHODS_FILE must be the methods rendered from routes.yaml (no file at $EDGE_METHODS_FILE)" >&2; exit 64; }
awk -F '\t' -v policy="$EDGE_ACCESS_POLICY" '
function fail(sentence) {
  print "nginx: configuration error: EDGE_ACCESS_POLICY " sentence > "/dev/stderr"
  exit 64
}
{ routed[$1] = 1; methods[substr($2, 2)] = 1 }
END {
  fallback = "-"
  count = split(policy, rules, ";")
  for (i = 1; i <= count; i++) {
    rule = rules[i]
    gsub(/ /, "", rule)
    if (rule == "") continue
    at = index(rule, "=")
    pattern = substr(rule, 1, at - 1)
    if (pattern in seen) fail("names " pattern " twice: list all its identities in one rule")
    seen[pattern] = 1
    service = pattern
    sub(/\/[^\/]*$/, "", service)
    if (pattern != "*" && !(service in routed)) fail("names " service ", which this edge does not route (routes.yaml)")
    if (pattern != "*" && pattern !~ /\/\*$/ && !(pattern in methods)) fail("names " pattern ", which is not a method of " service)
    identities = split(substr(rule, at + 1), identity, ",")
    value = " "
    for (j = 1; j <= identities; j++) value = value identity[j] " "
    # "*" among the identities: every client the edge verified.
    if (value ~ / \* /) value = ""
    if (pattern == "*") fallback = value
    else if (pattern ~ /\/\*$/) { escaped = service; gsub(/\./, "[.]", escaped); services = services "    ~^/" escaped "/ \"" value "\";\n" }
    else exact = exact "    /" pattern " \"" value "\";\n"
  }
  print "# Rendered by render-access-policy.sh at container start from EDGE_ACCESS_POLICY; change that instead."
  print "map $uri $edge_allowed_identities {"
  print "    default \"" fallback "\";"
  printf "%s%s", exact, services
  print "}"
}' "$EDGE_METHODS_FILE" >"$out"
