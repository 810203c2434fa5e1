"""Sockets bound on every address of a host, on one port (stdlib only).

What the HTTP side binds (:mod:`grpcgw.httpserver`), what a ``workers``
supervisor reserves for its workers (:func:`grpcgw.workers.reserve_tcp_port`) and
the port 0 a gRPC server gets on every address of a name (:mod:`grpcgw.grpcserver`),
by one rule:

- every address the host resolves to (``""``: the wildcards of each family),
  one socket each, an IPv6 one IPv6-only, as asyncio binds them;
- one port for all: port 0 is chosen by the first address and asked of the
  others, again on other ports when another program holds it there;
- an address this host does not have (``EADDRNOTAVAIL``: IPv6 off, ``::1``
  still in ``/etc/hosts``) is skipped, as asyncio skips it; a host of no
  address here fails naming them.
"""

from __future__ import annotations

import errno
import os
import socket
from typing import Any

__all__ = ["bind_every_address"]

#: How many ports 0 may choose before giving up on one free on every address.
_ATTEMPTS = 20


class _Retry(Exception):
    """The port the first address chose is taken on another: choose again."""


def bind_every_address(host: str, port: int, *, reuse_port: bool = False) -> list[socket.socket]:
    """Bound (not listening) sockets for ``host:port``, on every address of ``host``
    this machine has, all on one port; with ``reuse_port``, ``SO_REUSEPORT`` (workers
    share the port). Raises :class:`OSError` naming the address and the reason."""
    try:
        infos = socket.getaddrinfo(
            host or None, port, socket.AF_UNSPEC, socket.SOCK_STREAM, 0, socket.AI_PASSIVE
        )
    except socket.gaierror as exc:  # its text names no host
        raise OSError(exc.errno, f"cannot resolve {host!r}: {exc.strerror}") from None
    addresses: list[tuple[int, int, int, Any]] = []
    for family, kind, proto, _, address in infos:
        if (family, kind, proto, address) not in addresses:
            addresses.append((family, kind, proto, address))
    for _attempt in range(_ATTEMPTS):
        try:
            return _bind(addresses, port, reuse_port, host)
        except _Retry:
            continue
    raise OSError(errno.EADDRINUSE, f"no port free on every address of {host!r}")


def _bind(
    addresses: list[tuple[int, int, int, Any]], port: int, reuse_port: bool, host: str
) -> list[socket.socket]:
    sockets: list[socket.socket] = []
    missing: list[str] = []
    chosen = port
    try:
        for family, kind, proto, address in addresses:
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            if os.name == "posix":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if reuse_port:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if family == socket.AF_INET6 and hasattr(socket, "IPPROTO_IPV6"):
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                sock.bind((address[0], chosen, *address[2:]))
            except OSError as exc:
                if exc.errno == errno.EADDRNOTAVAIL:
                    sockets.pop().close()
                    missing.append(str(address[0]))
                    continue
                if port == 0 and chosen != 0 and exc.errno == errno.EADDRINUSE:
                    raise _Retry from None
                reason = (exc.strerror or str(exc)).lower()
                raise OSError(
                    exc.errno, f"cannot bind {address[0]} port {chosen}: {reason}"
                ) from None
            chosen = sock.getsockname()[1]
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    if not sockets:
        raise OSError(
            errno.EADDRNOTAVAIL,
            f"cannot bind on {host!r}: none of its addresses is on this host "
            f"({', '.join(missing)})",
        )
    return sockets
