"""Serve the ping example locally: ``python -m examples.ping``.

curl localhost:8080/v1/ping                        # {"message":"Pong"}
grpcurl -plaintext localhost:8081 list             # reflection is on

``--dispatch direct`` has the gateway call the servicers in process (the gRPC
server still answers grpcurl).
"""

from __future__ import annotations

import argparse

import grpcgw
from examples.ping.interceptor import LoggingInterceptor
from examples.ping.service import PingServicer, ShelfServicer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m examples.ping",
        description="Serve the ping example over gRPC and HTTP/JSON (grpcgw.serve_local).",
    )
    parser.add_argument(
        "--http-address",
        default="[::]:8080",
        help="HTTP/JSON gateway address (default: %(default)s)",
    )
    parser.add_argument(
        "--grpc-address", default="[::]:8081", help="gRPC server address (default: %(default)s)"
    )
    parser.add_argument(
        "--dispatch",
        choices=["socket", "direct"],
        default="socket",
        help="how the gateway reaches the servicers: over the gRPC server's socket, or "
        "in process (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    grpcgw.serve_local(
        PingServicer(),
        ShelfServicer(),
        http_address=args.http_address,
        grpc_address=args.grpc_address,
        interceptors=[LoggingInterceptor()],
        options=grpcgw.GatewayOptions(health_path="/healthz"),
        dispatch=args.dispatch,
    )


if __name__ == "__main__":
    main()
