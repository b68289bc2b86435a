#!/usr/bin/env bash
# Prints the path of a Chromium for the e2e suite's browser test (driven by playwright-core, which
# cannot download a browser here). On Debian as root, installs Debian's chromium package.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

for candidate in ${CHROMIUM:-} chromium /usr/bin/chromium; do
  if command -v "$candidate" >/dev/null 2>&1; then command -v "$candidate"; exit 0; fi
done
if is_root && is_debian; then
  apt_install chromium fonts-dejavu-core >&2
  command -v chromium >/dev/null 2>&1 && { command -v chromium; exit 0; }
fi
die "The e2e suite's browser test needs Chromium: apt-get install chromium (or set CHROMIUM to a Chromium or Chrome binary), then run this again."
