"""Python grpcio's side of the streaming contract: reads a RollDice stream through the edge with
stubs generated from api.proto, and prints how it ended, as JSON.

usage: stream_probe.py ADDRESS CA CERT KEY COUNT INTERVAL_MS   (stubs api_pb2*.py on PYTHONPATH)
Prints {"values": [...], "code": "OK" | status name, "details": str}.
"""
import json
import sys

import grpc

import api_pb2
import api_pb2_grpc


def main() -> int:
    address, ca_path, cert_path, key_path, count, interval_ms = sys.argv[1:7]
    with open(ca_path, "rb") as ca, open(cert_path, "rb") as cert, open(key_path, "rb") as key:
        creds = grpc.ssl_channel_credentials(ca.read(), key.read(), cert.read())
    # The edge certificate names localhost; the test reaches it on 127.0.0.1.
    channel = grpc.secure_channel(address, creds, options=[("grpc.ssl_target_name_override", "localhost")])
    stub = api_pb2_grpc.DiceServiceStub(channel)
    values = []
    outcome = {"code": "OK", "details": ""}
    try:
        for roll in stub.RollDice(api_pb2.RollDiceRequest(count=int(count), interval_ms=int(interval_ms)), timeout=30):
            values.append(roll.value)
    except grpc.RpcError as error:
        outcome = {"code": error.code().name, "details": error.details() or ""}
    finally:
        channel.close()
    print(json.dumps({"values": values, **outcome}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
