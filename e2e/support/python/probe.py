"""The Python grpcio side of the edge's error contract: makes unary calls through the edge and
prints how each ended, as JSON, so the e2e suite can assert the same status codes grpc-js sees.

usage: probe.py OPTIONS_JSON
  {"address", "ca", "cert"?, "key"?, "method"?, "payload_bytes"?, "metadata"?, "count"?, "deadline_s"?}
Prints [{"code": "OK" | status name, "details": str}, ...] with one entry per call. Calls run
concurrently on one channel. With {"tls_version": "TLSv1_1", ...} it instead tries a bare TLS
handshake at that version and prints {"handshake": "ok" | "refused", "error": str}.
"""
import json
import socket
import ssl
import sys

import grpc


def message_of_size(size: int) -> bytes:
    """A valid protobuf message: an unknown length-delimited field 15 of `size` bytes."""
    if size == 0:
        return b""
    length = bytearray()
    n = size
    while True:
        if n < 0x80:
            length.append(n)
            break
        length.append((n & 0x7F) | 0x80)
        n >>= 7
    return bytes([(15 << 3) | 2]) + bytes(length) + b"a" * size


def read(path):
    if not path:
        return None
    with open(path, "rb") as f:
        return f.read()


def handshake(options) -> dict:
    host, port = options["address"].rsplit(":", 1)
    version = getattr(ssl.TLSVersion, options["tls_version"])
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    # Old protocol versions are off by default in OpenSSL 3; allow them so the server decides.
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    context.minimum_version = version
    context.maximum_version = version
    try:
        with socket.create_connection((host, int(port)), timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname="localhost"):
                return {"handshake": "ok", "error": ""}
    except (ssl.SSLError, OSError) as error:
        return {"handshake": "refused", "error": str(error)}


def calls(options) -> list:
    credentials = grpc.ssl_channel_credentials(read(options["ca"]), read(options.get("key")), read(options.get("cert")))
    # The edge certificate names localhost; the test reaches it on 127.0.0.1.
    channel = grpc.secure_channel(options["address"], credentials, options=[("grpc.ssl_target_name_override", "localhost")])
    call = channel.unary_unary(options.get("method", "/api.DiceService/RollDie"))
    request = message_of_size(options.get("payload_bytes", 0))
    metadata = list(options.get("metadata", {}).items())
    futures = [call.future(request, timeout=options.get("deadline_s", 10), metadata=metadata) for _ in range(options.get("count", 1))]
    outcomes = []
    for future in futures:
        try:
            future.result()
            outcomes.append({"code": "OK", "details": ""})
        except grpc.RpcError as error:
            outcomes.append({"code": error.code().name, "details": error.details() or ""})
    channel.close()
    return outcomes


def main() -> int:
    options = json.loads(sys.argv[1])
    print(json.dumps(handshake(options) if "tls_version" in options else calls(options)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
