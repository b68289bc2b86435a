#!/usr/bin/env bash
# Prints the path of a python3 that has grpcio and grpcio-tools (the e2e suite runs the tutorial's
# Python client with them). On Debian as root, installs Debian's python3-grpcio and python3-grpc-tools.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

has_grpc() { "$1" -c 'import grpc, grpc_tools.protoc' >/dev/null 2>&1; }

for candidate in ${PYTHON:-} python3 /usr/bin/python3; do
  if command -v "$candidate" >/dev/null 2>&1 && has_grpc "$candidate"; then command -v "$candidate"; exit 0; fi
done
if is_root && is_debian; then
  apt_install python3 python3-grpcio python3-grpc-tools python3-protobuf
  has_grpc /usr/bin/python3 && { echo /usr/bin/python3; exit 0; }
fi
die "The e2e suite needs Python 3 with grpcio and grpcio-tools: pip install grpcio grpcio-tools (or set PYTHON to an interpreter that has them), then run this again."
