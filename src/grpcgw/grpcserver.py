"""Running the user's servicers in a real gRPC server (for ``serve_local`` and Lambda).

Which server runs them, the same way everywhere (``serve_local``, ``start_local``
and ``serve_lambda``), so one servicer behaves identically locally and on Lambda:

- every servicer plain (``def``) and no ``grpc.aio.ServerInterceptor``: a threaded
  ``grpc.server``, the server plain servicers are written for (its context has
  ``abort_with_status``, which ``grpc.aio``'s has not); ``grpc.ServerInterceptor``
  interceptors run there;
- any ``async def`` servicer, or any ``grpc.aio.ServerInterceptor``: a ``grpc.aio``
  server; plain servicers among them run on its worker thread pool (a plain
  handler that streams its replies in lockstep with its writes: grpc.aio's own way
  can leave a call that aborts mid-stream hanging, see :mod:`grpcgw.plainstreams`).

Mixing the two kinds of interceptor is an error, and so are async servicers with
``grpc.ServerInterceptor`` interceptors.

Where it listens: a host name is resolved here and bound address by address
(:func:`bind_targets`), each one or the start fails. On port 0 the port is one for
all, chosen free on every address by :mod:`grpcgw.listen`'s rule (as the HTTP side
chooses it), then given to gRPC. Another program may take it on one address in the
moment between: gRPC cannot unbind the addresses it bound already, so that server is
started and stopped at once to let go of them, and a fresh one tries another port
(at most ``_RACES`` times, then an error naming the address).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import socket
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import grpc.aio

from grpcgw.descriptors import ServiceInfo
from grpcgw.listen import bind_every_address
from grpcgw.metadata import METADATA_SIZE_OPTIONS
from grpcgw.plainstreams import PlainStreams, has_plain_streams

log = logging.getLogger("grpcgw")


def bind_targets(address: str) -> list[str]:
    """The addresses to give gRPC for ``address``: itself, unless its host is a name,
    which grpcgw resolves (as the HTTP side binds one) into one address per result.

    gRPC resolves a name itself and starts if any one of its addresses binds:
    ``localhost:P`` with ``127.0.0.1:P`` held by another program serves ``[::1]:P``
    alone, with a warning in gRPC's log as the only sign, and clients reaching
    ``127.0.0.1:P`` talk to the other program. Bound one by one, a taken address
    fails the start. Raises :class:`OSError` for a name that does not resolve.
    """
    named = _host_name(address)
    if named is None:
        return [address]
    host, port = named
    try:
        infos = socket.getaddrinfo(host, int(port), socket.AF_UNSPEC, socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise OSError(
            f"cannot bind gRPC server to {address}: cannot resolve {host!r}: {exc}"
        ) from None
    targets: list[str] = []
    for family, _, _, _, sockaddr in infos:
        target = _target(family, str(sockaddr[0]), port)
        if target not in targets and _on_this_host(family, sockaddr):
            targets.append(target)
    return targets or [address]  # none here: gRPC's own error names the address


def _host_name(address: str) -> tuple[str, str] | None:
    """``(host, port)`` of ``address`` if its host is a name grpcgw resolves; ``None``
    for a wildcard, a literal, a socket, or what gRPC itself rejects."""
    if address.startswith(("unix:", "unix-abstract:", "vsock:", "[")):
        return None
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or _is_ip(host):
        return None
    return host, port


def _target(family: int, ip: str, port: object) -> str:
    return f"[{ip}]:{port}" if family == socket.AF_INET6 else f"{ip}:{port}"


#: How many servers port 0 on a host name may use up when, each time, another
#: program takes the chosen port on one of its addresses before gRPC binds it there.
_RACES = 5


def _port_zero_host(address: str) -> str | None:
    """The host of ``address`` if it is a host name on port 0 (whose addresses must
    share one port), else ``None``."""
    named = _host_name(address)
    return named[0] if named is not None and int(named[1]) == 0 else None


def _free_targets(address: str, host: str) -> list[str]:
    """``host``'s addresses on this machine, on one port free on all of them right
    now: :func:`grpcgw.listen.bind_every_address`'s choice (retried there when the
    first address's port is taken on another), released for gRPC to bind."""
    try:
        sockets = bind_every_address(host, 0)
    except OSError as exc:
        raise OSError(exc.errno, f"cannot bind gRPC server to {address}: {exc.strerror}") from None
    except UnicodeError as exc:  # a name IDNA cannot encode
        raise OSError(
            f"cannot bind gRPC server to {address}: cannot resolve {host!r}: {exc}"
        ) from None
    try:
        return [_target(sock.family, *sock.getsockname()[:2]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class _Taken(Exception):
    """The port chosen for every address was taken on ``target`` before gRPC bound it."""

    def __init__(self, target: str, port: int) -> None:
        super().__init__(target)
        self.target = target
        self.port = port


def _add_ports(
    server: grpc.aio.Server | grpc.Server,
    address: str,
    targets: Sequence[str],
    credentials: grpc.ServerCredentials | None,
    *,
    chosen: bool,
) -> int:
    """Bind each of ``targets`` (what ``address`` stands for) in ``server``; the port.
    With ``chosen`` (a port grpcgw found free for port 0), raises :class:`_Taken` when
    a target's port is in use now (another program was quicker); any other failure
    raises :class:`OSError` naming the address."""
    port = 0
    for target in targets:
        shown = address if target == address else f"{address} ({target})"
        try:
            if credentials is None:
                bound = server.add_insecure_port(target)
            else:
                bound = server.add_secure_port(target, credentials)
        except RuntimeError as exc:
            if chosen and _in_use(target):
                raise _Taken(target, int(target.rpartition(":")[2])) from None
            reason = _bind_failure(target) or str(exc)
            raise OSError(f"cannot bind gRPC server to {shown}: {reason}") from None
        if bound == 0 and not address.startswith("unix"):
            why = _bind_failure(target)
            raise OSError(f"cannot bind gRPC server to {shown}" + (f": {why}" if why else ""))
        port = port or bound
    return port


def _bind_failure(target: str) -> str | None:
    """Why a TCP address cannot be bound, as the OS says it (``address already in
    use``), or ``None``: gRPC's own error only says it failed and to turn on its
    debug log. A probe binds a socket of its own there, as gRPC would (with
    ``SO_REUSEADDR``), and closes it."""
    host, sep, port = target.rpartition(":")
    if not sep or not port.isdigit() or target.startswith(("unix:", "unix-abstract:", "vsock:")):
        return None
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        probe = socket.socket(family, socket.SOCK_STREAM)
    except OSError:
        return None
    with probe:
        try:
            if os.name == "posix":
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, int(port)))
        except OSError as exc:
            return (exc.strerror or str(exc)).lower()
    return None


def _in_use(target: str) -> bool:
    """Whether another socket holds ``target`` (an ``ip:port`` or ``[ip]:port`` of a
    port grpcgw chose): a probe that binds it fails with ``EADDRINUSE``."""
    host, _, port = target.rpartition(":")
    ip = host.strip("[]")
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    probe = socket.socket(family, socket.SOCK_STREAM)
    try:
        probe.bind((ip, int(port)))
    except OSError as exc:
        return exc.errno == errno.EADDRINUSE
    finally:
        probe.close()
    return False


async def _discard(server: grpc.aio.Server | grpc.Server) -> None:
    """Let go of the ports an unstarted ``server`` bound. gRPC has no call to unbind
    one, and a server never started keeps them even once collected: started and
    stopped at once, it closes them. Nobody knows their port yet; no call runs."""
    if isinstance(server, grpc.aio.Server):
        await server.start()
        await server.stop(None)
    else:
        server.start()
        await asyncio.to_thread(server.stop(None).wait)


def _new_server(
    kind: str,
    interceptors: Sequence[object],
    options: Sequence[tuple[str, Any]],
    max_workers: int,
    *,
    plain_streams: bool = False,
) -> grpc.aio.Server | grpc.Server:
    pool = ThreadPoolExecutor(max_workers=max_workers)
    if kind == "sync":
        return grpc.server(
            pool,
            interceptors=list(interceptors),  # type: ignore[arg-type]
            options=list(options),
        )
    _quiet_cancelled_writes()
    if plain_streams:
        # First, so that it sees the handler the user's interceptors settled on.
        interceptors = [PlainStreams(pool), *interceptors]
    return grpc.aio.server(
        migration_thread_pool=pool,
        interceptors=list(interceptors),  # type: ignore[arg-type]
        options=list(options),
    )


def _on_this_host(family: int, sockaddr: Any) -> bool:
    """Whether this host has the address (a probe binds it on a port of its own):
    a family it lacks (IPv6 off, ::1 still in /etc/hosts) is skipped, as asyncio
    and the HTTP side skip it, not a failed start."""
    probe = socket.socket(family, socket.SOCK_STREAM)
    try:
        probe.bind((sockaddr[0], 0, *sockaddr[2:]))
    except OSError as exc:
        return exc.errno != errno.EADDRNOTAVAIL
    finally:
        probe.close()
    return True


def _is_ip(host: str) -> bool:
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
        except OSError:
            continue
        return True
    return False


class ServerConfigError(TypeError):
    """Servicers and interceptors that cannot run together in one gRPC server."""


def _interceptor_kind(interceptors: Sequence[object]) -> str:
    aio = [i for i in interceptors if isinstance(i, grpc.aio.ServerInterceptor)]
    sync = [i for i in interceptors if isinstance(i, grpc.ServerInterceptor)]
    other = [i for i in interceptors if i not in aio and i not in sync]
    if other:
        raise ServerConfigError(
            f"{type(other[0]).__qualname__} is not a grpc.ServerInterceptor "
            "or grpc.aio.ServerInterceptor"
        )
    if aio and sync:
        raise ServerConfigError(
            "interceptors mix grpc.aio.ServerInterceptor and grpc.ServerInterceptor; "
            "a gRPC server runs one kind"
        )
    return "sync" if sync else "aio"


def server_kind(
    services: Sequence[ServiceInfo], interceptors: Sequence[object], *, prefer_threaded: bool
) -> str:
    """``"sync"`` (a threaded ``grpc.server``) or ``"aio"`` (a ``grpc.aio`` server): the
    server these servicers and interceptors run on (the module docstring's rules).

    :meth:`GrpcServer.start` starts that server and direct dispatch
    (:mod:`grpcgw.dispatch`) follows its rules, so both decide here. Raises
    :class:`ServerConfigError` for what cannot run together.
    """
    kind = _interceptor_kind(interceptors)
    if prefer_threaded and not interceptors and not any(s.is_async() for s in services):
        kind = "sync"
    if kind == "sync":
        async_services = [s.full_name for s in services if s.is_async()]
        if async_services:
            raise ServerConfigError(
                f"{', '.join(async_services)}: async servicers need grpc.aio.ServerInterceptor "
                "interceptors, but grpc.ServerInterceptor ones were given"
            )
    return kind


def require_servicers(services: Sequence[ServiceInfo]) -> None:
    """Raise :class:`ServerConfigError` for a service given without a servicer instance."""
    for info in services:
        if info.servicer is None or info.add_to_server is None:
            raise ServerConfigError(f"{info.full_name}: a servicer instance is needed to serve it")


class _CancelledWrites(logging.Filter):
    """grpc.aio logs ``ExecuteBatchError raised in core by servicer method`` with a
    traceback at ERROR whenever a streaming call ends while its servicer is writing:
    what happens each time a client leaves a stream it had stopped reading (the
    gateway cancels the call). A client can cause it at will, and it says nothing
    about the servicer: one line at DEBUG instead, without the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not str(record.msg).startswith("ExecuteBatchError raised in core"):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        record.exc_info = record.exc_text = None
        record.msg = f"{record.msg} (the call ended while the servicer was writing)"
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


_CANCELLED_WRITES = _CancelledWrites()


def _quiet_cancelled_writes() -> None:
    logger = logging.getLogger("grpc._cython.cygrpc")
    if _CANCELLED_WRITES not in logger.filters:
        logger.addFilter(_CANCELLED_WRITES)


HEALTH_SERVICE = "grpc.health.v1.Health"


async def _add_health(server: grpc.aio.Server | grpc.Server, names: Sequence[str]) -> Any:
    from grpc_health.v1 import health, health_pb2, health_pb2_grpc

    aio_server = isinstance(server, grpc.aio.Server)
    servicer: Any = (
        health.aio.HealthServicer()  # type: ignore[attr-defined]  # untyped submodule
        if aio_server
        else health.HealthServicer()
    )
    for name in ("", *names):
        result = servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
        if asyncio.iscoroutine(result):
            await result
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    return servicer


class GrpcServer:
    """A started gRPC server. Create with :meth:`start`; stop with :meth:`stop`."""

    def __init__(
        self,
        server: grpc.aio.Server | grpc.Server,
        address: str,
        port: int,
        health: Any = None,
    ) -> None:
        self._server = server
        #: The ``grpc.health.v1`` servicer grpcgw added (``None`` if the user brought one):
        #: ``await set_serving(name, False)`` reports a service NOT_SERVING.
        self.health = health
        #: The address the server was asked to bind.
        self.address = address
        #: The TCP port bound (0 for unix sockets).
        self.port = port

    @property
    def is_async(self) -> bool:
        return isinstance(self._server, grpc.aio.Server)

    @classmethod
    async def start(
        cls,
        services: Sequence[ServiceInfo],
        address: str,
        *,
        interceptors: Sequence[object] = (),
        reflection: bool = True,
        max_workers: int = 16,
        options: Sequence[tuple[str, Any]] = (),
        credentials: grpc.ServerCredentials | None = None,
        add_health: bool = True,
        prefer_threaded: bool = True,
        also_listen: Sequence[str] = (),
    ) -> GrpcServer:
        """Register ``services`` (each with a servicer), bind ``address`` and start serving.

        With ``add_health`` (and no health servicer among ``services``), a
        ``grpc.health.v1.Health`` service reports the server and each service SERVING.
        With ``reflection``, ``grpc.reflection.v1`` and ``v1alpha`` are served.
        With ``prefer_threaded`` (the default), plain servicers with no interceptors
        run on a threaded ``grpc.server``; without it, on ``grpc.aio``'s thread pool.
        ``also_listen``: more addresses served without credentials (a worker of
        ``serve_local`` listens on a private socket of its own for its gateway).
        """
        require_servicers(services)
        kind = server_kind(services, interceptors, prefer_threaded=prefer_threaded)
        # grpcgw's metadata limits (what HTTP headers carry), unless given.
        options = list({**dict(METADATA_SIZE_OPTIONS), **dict(options)}.items())

        async def new_server() -> tuple[grpc.aio.Server | grpc.Server, Any]:
            server = _new_server(
                kind, interceptors, options, max_workers, plain_streams=has_plain_streams(services)
            )
            for info in services:
                assert info.add_to_server is not None
                info.add_to_server(info.servicer, server)
            health = None
            names = [s.full_name for s in services]
            if add_health and HEALTH_SERVICE not in names:
                health = await _add_health(server, names)
                names.append(HEALTH_SERVICE)
            if reflection:
                from grpcgw.reflection import enable_reflection

                enable_reflection(server, names)
            return server, health

        spread = _port_zero_host(address)
        for _race in range(_RACES):
            # A name on port 0: one port free on every address it has, chosen as the
            # HTTP side chooses it, then given to gRPC address by address.
            targets = bind_targets(address) if spread is None else _free_targets(address, spread)
            server, health = await new_server()
            try:
                port = _add_ports(server, address, targets, credentials, chosen=spread is not None)
                for extra in also_listen:
                    try:
                        server.add_insecure_port(extra)
                    except RuntimeError as exc:
                        raise OSError(f"cannot bind gRPC server to {extra}: {exc}") from None
            except _Taken as taken:
                # Another program took the port on one address between grpcgw's
                # choice and gRPC's bind. gRPC cannot unbind what it has bound: this
                # server lets go of it, and a fresh one tries another port.
                await _discard(server)
                last = taken
                continue
            except BaseException:
                await _discard(server)  # nor keep the addresses it did bind
                raise
            break
        else:
            raise OSError(
                errno.EADDRINUSE,
                f"cannot bind gRPC server to {address} ({last.target}): port {last.port} "
                f"was taken there after grpcgw found it free on every address, {_RACES} times",
            )
        if isinstance(server, grpc.aio.Server):
            await server.start()
        else:
            server.start()
        return cls(server, address, 0 if address.startswith("unix") else port, health)

    async def set_serving(self, service: str, serving: bool) -> None:
        """Report ``service`` (``""``: the whole server) SERVING or NOT_SERVING."""
        if self.health is None:
            raise RuntimeError("grpcgw added no health service (the servicers bring their own)")
        from grpc_health.v1 import health_pb2

        status = (
            health_pb2.HealthCheckResponse.SERVING
            if serving
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        result = self.health.set(service, status)
        if asyncio.iscoroutine(result):
            await result

    async def stop(self, grace: float | None = 5.0) -> None:
        """Stop accepting calls; let running ones finish for up to ``grace`` seconds.

        Health checks report NOT_SERVING from the start of the grace period.
        """
        if self.health is not None:
            result = self.health.enter_graceful_shutdown()
            if asyncio.iscoroutine(result):
                await result
        if isinstance(self._server, grpc.aio.Server):
            await self._server.stop(grace)
        else:
            event = self._server.stop(grace)
            await asyncio.get_running_loop().run_in_executor(None, event.wait)
