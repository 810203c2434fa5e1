"""The gateway in front of servicers in either dispatch mode, for tests that must hold in both.

``socket``: the servicers run in a real gRPC server (:class:`GrpcServer`) on a
unix socket, and the gateway calls it over a channel, as ``serve_local`` and
``serve_lambda`` do today. ``direct``: the gateway calls the same servicers
through :class:`~grpcgw.dispatch.DirectInvoker`, in process.

Use the ``mode`` fixture (parametrised over :data:`MODES`) and the ``backend``
fixture built on it, by making them attributes of the test module::

    from . import modes
    from .modes import Backend

    mode, backend = modes.mode, modes.backend

    async def test_ping(backend: Backend) -> None:
        gateway = await backend.gateway(PingServicer())
        ...

The front ends take the mode as it is: ``serve_lambda(..., dispatch=mode)``,
``start_local(..., dispatch=mode)``. A test about what only a socket has (its
file, a connection that fails) runs once, with :func:`socket_only` saying why.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from grpcgw import Gateway, GatewayOptions
from grpcgw.descriptors import resolve_service
from grpcgw.dispatch import DirectInvoker
from grpcgw.errors import Code, status_error
from grpcgw.grpcserver import GrpcServer

MODES = ("socket", "direct")


class Backend:
    """Builds gateways in front of servicers in one mode, and stops everything after."""

    _ids = itertools.count()

    def __init__(self, mode: str, sock_dir: Path, *, exposed: bool = False) -> None:
        assert mode in MODES, mode
        self.mode = mode
        #: Gateways built with ``expose_internal_errors`` (grpc's own texts reach
        #: the client, so they can be compared too).
        self.exposed = exposed
        self.sock_dir = sock_dir
        self._servers: list[GrpcServer] = []
        self._closers: list[Any] = []
        self._health: Any = None

    async def gateway(
        self,
        *servicers: object,
        services: Sequence[Any] | None = None,
        interceptors: Sequence[Any] = (),
        prefer_threaded: bool = True,
        blocking: bool = False,
        options: GatewayOptions | None = None,
        server_options: Sequence[tuple[str, Any]] = (),
        **gateway_kwargs: Any,
    ) -> Gateway:
        """A gateway for ``servicers``, run as ``GrpcServer.start`` would run them
        (``prefer_threaded`` as there: plain servicers without interceptors on a
        threaded ``grpc.server``; ``False`` puts them on ``grpc.aio``'s pool).

        ``blocking``: as the Lambda handler calls (drive the gateway with
        ``run_blocking``): over a blocking channel to a threaded server, or
        direct dispatch ``inline``; plain servicers only.

        ``services``: what the gateway serves (names, descriptors), when not the
        servicers' own services.
        """
        options = options or GatewayOptions()
        if self.exposed:
            options = replace(options, expose_internal_errors=True)
        served = [resolve_service(s) for s in servicers]
        descriptors = [s.descriptor for s in served] if services is None else list(services)
        health = bool(options.health_path)
        if self.mode == "socket":
            target = f"unix://{self.sock_dir}/grpc-{next(self._ids)}.sock"
            server = await GrpcServer.start(
                served,
                target,
                interceptors=interceptors,
                prefer_threaded=prefer_threaded or blocking,
                options=server_options,
                add_health=health,
                reflection=False,
            )
            self._servers.append(server)
            self._health = server.health or self._health
            if blocking:
                from grpcgw.channel import BlockingInvoker, open_blocking_channel

                channel_options = []
                if options.max_response_message is not None:
                    channel_options.append(
                        ("grpc.max_receive_message_length", options.max_response_message)
                    )
                invoker: Any = BlockingInvoker(
                    open_blocking_channel(target, options=channel_options)
                )
                gateway = Gateway(descriptors, invoker=invoker, options=options, **gateway_kwargs)
                self._closers.append(invoker)
                return gateway
            gateway = Gateway(descriptors, target=target, options=options, **gateway_kwargs)
            self._closers.append(gateway)
            return gateway
        invoker = DirectInvoker(
            served,
            interceptors=interceptors,
            prefer_threaded=prefer_threaded or blocking,
            inline=blocking,
            options=server_options,
            max_response_message=options.max_response_message,
            add_health=health,
        )
        self._closers.append(invoker)
        self._health = invoker.health or self._health
        return Gateway(descriptors, invoker=invoker, options=options, **gateway_kwargs)

    async def set_serving(self, service: str, serving: bool) -> None:
        """Report ``service`` (``""``: all) SERVING or not, by the health service the
        last gateway with ``health_path`` asks."""
        from grpc_health.v1 import health_pb2

        assert self._health is not None, "no gateway with health_path yet"
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if serving
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        result = self._health.set(service, status)
        if result is not None:
            await result

    def said(self, code: Code, message: str) -> str:
        """What a client of these gateways is told for a status with this message
        (a message not meant for clients is hidden unless ``exposed``)."""
        error = status_error(code, message)
        return error.message if self.exposed else error.public().message

    async def close(self) -> None:
        for closer in self._closers:
            await closer.aclose()
        for server in self._servers:
            await server.stop(0)


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    """``socket`` or ``direct``: each test using it runs once in each mode."""
    return str(request.param)


def socket_only(reason: str) -> pytest.MarkDecorator:
    """Run a test that takes ``mode`` (or ``backend``) in socket mode only: ``reason``
    says what it tests that only a socket has."""
    assert reason
    return pytest.mark.parametrize("mode", ["socket"])


@pytest.fixture
async def backend(mode: str, sock_dir: Path) -> AsyncIterator[Backend]:
    b = Backend(mode, sock_dir)
    yield b
    await b.close()
