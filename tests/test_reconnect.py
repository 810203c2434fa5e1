"""Recovering from a backend outage: grpcgw's cap on gRPC's reconnect backoff
reaches the channel the gateway dials, and ``channel_options`` override it.

The backend sits behind a loopback TCP relay that, while "down", accepts each
connection attempt and closes it at once (a failed HTTP/2 handshake, as from a
backend restarting), counting them; once "up" it relays to the real server.
Every wait is on an event with a bound; nothing asserts how long anything took.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from examples.ping.service import PingServicer
from grpcgw import Gateway, GatewayOptions, HttpRequest
from grpcgw.channel import MAX_RECONNECT_BACKOFF_MS, gateway_channel_options

from .conftest import Servers

#: Attempts seen while down: with a 200 ms cap they come within about a second;
#: with gRPC's own backoff (1 s, growing by 1.6) the sixth would take 15 s.
ATTEMPTS = 6
#: Bound on each wait: well under what gRPC's default backoff would need.
BOUND = 8.0


class _Relay:
    """A TCP listener in front of a unix-socket gRPC server that can be "down"."""

    def __init__(self, backend_path: str) -> None:
        self._backend = backend_path
        self.up = False
        self.refused = 0
        self.enough_refused = asyncio.Event()
        self.relayed = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.up:
            self.refused += 1
            if self.refused >= ATTEMPTS:
                self.enough_refused.set()
            writer.close()
            return
        self.relayed.set()
        back_reader, back_writer = await asyncio.open_unix_connection(self._backend)
        pipes = [
            asyncio.create_task(_pipe(reader, back_writer)),
            asyncio.create_task(_pipe(back_reader, writer)),
        ]
        self._tasks.update(pipes)
        await asyncio.gather(*pipes, return_exceptions=True)

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


@contextlib.asynccontextmanager
async def _relay(backend_target: str) -> AsyncIterator[tuple[_Relay, int]]:
    relay = _Relay(backend_target.removeprefix("unix://"))
    server = await asyncio.start_server(relay._client, "127.0.0.1", 0)
    try:
        yield relay, server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await relay.aclose()
        await server.wait_closed()


def _ping() -> HttpRequest:
    return HttpRequest("GET", "/v1/ping")


def test_the_reconnect_backoff_is_capped_by_default() -> None:
    opts = dict(gateway_channel_options(GatewayOptions()))
    assert opts["grpc.max_reconnect_backoff_ms"] == MAX_RECONNECT_BACKOFF_MS == 5000
    assert "grpc.max_reconnect_backoff_ms" in dict(
        gateway_channel_options(GatewayOptions(connect_timeout=None, max_response_message=None))
    )


async def test_the_gateway_recovers_soon_after_a_long_outage(servers: Servers) -> None:
    target = await servers.start(PingServicer())
    async with _relay(target) as (relay, port):
        gateway = Gateway(
            [PingServicer()],
            target=f"127.0.0.1:{port}",
            # What a user passes wins over grpcgw's 5 s cap: small, so that the
            # outage below spans several rounds of backoff in about a second.
            channel_options=[
                ("grpc.initial_reconnect_backoff_ms", 100),
                ("grpc.max_reconnect_backoff_ms", 200),
            ],
        )
        async with gateway:
            # The first call dials; the backend is down: 503, then gRPC keeps
            # retrying on its own, each round waiting up to the cap.
            assert (await gateway.handle(_ping())).status == 503
            async with asyncio.timeout(BOUND):
                await relay.enough_refused.wait()
            assert (await gateway.handle(_ping())).status == 503
            relay.up = True
            # The next attempt comes within the cap, not after gRPC's minutes.
            async with asyncio.timeout(BOUND):
                await relay.relayed.wait()
            # Calls fail fast until the new connection's handshake is done (gRPC
            # reports the failure until READY): ask until one is served.
            async with asyncio.timeout(BOUND):
                while (resp := await gateway.handle(_ping())).status == 503:
                    pass
            assert (resp.status, resp.body) == (200, b'{"message":"Pong"}')


@pytest.mark.parametrize("cap", [None, 30_000])
def test_channel_options_override_the_cap(cap: int | None) -> None:
    """The merged arguments the gateway dials with: the user's value last, and one."""
    from grpcgw.channel import _channel_options

    given = [] if cap is None else [("grpc.max_reconnect_backoff_ms", cap)]
    merged = dict(_channel_options(None, [*gateway_channel_options(GatewayOptions()), *given]))
    assert merged["grpc.max_reconnect_backoff_ms"] == (cap or MAX_RECONNECT_BACKOFF_MS)
