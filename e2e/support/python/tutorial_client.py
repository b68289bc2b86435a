"""The original tutorial's Python client, as it was written: generated stubs, mTLS channel
credentials, DiceServiceStub.RollDie. Used by the e2e suite to show that grpcio clients written
against the tutorial's contract work unchanged.

usage: tutorial_client.py ADDRESS CA CERT KEY COUNT   (stubs api_pb2*.py on PYTHONPATH)
Prints one rolled value per line; on a failed call prints "error CODE_NAME" and exits 3.
"""
import sys

import grpc

import api_pb2
import api_pb2_grpc


def main() -> int:
    address, ca_path, cert_path, key_path, count = sys.argv[1:6]
    with open(ca_path, "rb") as ca, open(cert_path, "rb") as cert, open(key_path, "rb") as key:
        creds = grpc.ssl_channel_credentials(ca.read(), key.read(), cert.read())
    # The edge certificate names localhost; the test reaches it on 127.0.0.1.
    channel = grpc.secure_channel(address, creds, options=[("grpc.ssl_target_name_override", "localhost")])
    stub = api_pb2_grpc.DiceServiceStub(channel)
    try:
        for _ in range(int(count)):
            print(stub.RollDie(api_pb2.RollDieRequest(), timeout=5).value, flush=True)
    except grpc.RpcError as error:
        print(f"error {error.code().name}", flush=True)
        return 3
    finally:
        channel.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
