"""TLS settings for dialing the gRPC server: :class:`TLSConfig`, public as
``grpcgw.TLSConfig`` and ``grpcgw.channel.TLSConfig``.

Its own module so that a process that dials without TLS (the Lambda handler)
never defines it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import grpc

__all__ = ["TLSConfig"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TLSConfig:
    """TLS settings for dialing the gRPC server.

    Each PEM value may be given as bytes or as a path to a file. With no root
    certificates, grpcio's default roots are used.
    """

    __module__ = "grpcgw.channel"  # where it has always been imported from

    root_certificates: bytes | str | None = None
    private_key: bytes | str | None = None
    certificate_chain: bytes | str | None = None
    #: Override the name checked against the server certificate.
    server_name: str | None = None

    def credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(
            root_certificates=_pem(self.root_certificates),
            private_key=_pem(self.private_key),
            certificate_chain=_pem(self.certificate_chain),
        )


def _pem(value: bytes | str | None) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    return Path(os.path.expanduser(value)).read_bytes()
