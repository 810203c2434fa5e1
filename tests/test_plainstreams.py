"""Plain streaming handlers on the grpc.aio server grpcgw starts end their calls.

grpc.aio alone leaves a call hanging when a plain generator aborts while an
earlier reply is still being written (grpc/grpc#28989; after the first reply
often, later ones under load): :mod:`grpcgw.plainstreams` runs such handlers in
lockstep with their writes. Each call here has a deadline, so the old hang shows
as DEADLINE_EXCEEDED rather than a stuck test.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import grpc.aio
import pytest
from grpc._cython import cygrpc
from grpcgwtest.stream.v1 import stream_pb2, stream_pb2_grpc

from grpcgw.descriptors import resolve_service
from grpcgw.grpcserver import GrpcServer
from grpcgw.plainstreams import _PlainContext

#: Bounds each call (a hang would otherwise be the test's).
DEADLINE = 10.0
#: Calls per case: the race grpc.aio loses is a matter of timing.
ROUNDS = 25


class PlainStreams(stream_pb2_grpc.StreamServiceServicer):
    def __init__(self) -> None:
        self.closed = threading.Event()
        self.contexts: list[Any] = []

    def Count(self, request: Any, context: Any) -> Iterator[stream_pb2.Num]:
        self.contexts.append(context)
        try:
            for i in range(request.n):
                if request.fail_at == i + 1:
                    context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"failed at {i + 1}")
                yield stream_pb2.Num(value=i)
        except GeneratorExit:
            self.closed.set()
            raise

    def Double(self, requests: Any, context: Any) -> Iterator[stream_pb2.Num]:
        for num in requests:
            if num.value < 0:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, "negative")
            yield stream_pb2.Num(value=2 * num.value)


@pytest.fixture
async def served(sock_dir: Path) -> Any:
    servicer = PlainStreams()
    target = f"unix://{sock_dir}/plain.sock"
    server = await GrpcServer.start(
        [resolve_service(servicer)], target, prefer_threaded=False, reflection=False
    )
    assert server.is_async
    async with grpc.aio.insecure_channel(target) as channel:
        yield servicer, stream_pb2_grpc.StreamServiceStub(channel)
    await server.stop(0)


@pytest.mark.parametrize("fail_at", [1, 2, 3])
async def test_an_abort_after_replies_ends_the_call(served: Any, fail_at: int) -> None:
    _, stub = served
    for _ in range(ROUNDS):
        call = stub.Count(stream_pb2.CountRequest(n=4, fail_at=fail_at), timeout=DEADLINE)
        got, failed = await _until_it_fails(call)
        assert failed.code() == grpc.StatusCode.FAILED_PRECONDITION, failed
        assert failed.details() == f"failed at {fail_at}"
        assert got == list(range(fail_at - 1))


async def test_replies_and_the_end_of_a_stream_as_before(served: Any) -> None:
    _, stub = served
    call = stub.Count(stream_pb2.CountRequest(n=3), timeout=DEADLINE)
    assert [num.value async for num in call] == [0, 1, 2]
    assert await call.code() == grpc.StatusCode.OK
    empty = stub.Count(stream_pb2.CountRequest(n=0), timeout=DEADLINE)
    assert [num.value async for num in empty] == []


async def test_a_bidi_stream_that_aborts_after_a_reply_ends(served: Any) -> None:
    _, stub = served
    for _ in range(ROUNDS):
        call = stub.Double(
            iter([stream_pb2.Num(value=1), stream_pb2.Num(value=-1)]), timeout=DEADLINE
        )
        got, failed = await _until_it_fails(call)
        assert failed.code() == grpc.StatusCode.INVALID_ARGUMENT, failed
        assert got == [2]


async def test_a_client_that_leaves_closes_the_generator(served: Any) -> None:
    servicer, stub = served
    call = stub.Count(stream_pb2.CountRequest(n=1000), timeout=DEADLINE)
    assert (await call.read()).value == 0
    call.cancel()
    assert await _wait(servicer.closed)


async def test_the_handler_gets_what_grpc_aio_gives_plain_handlers(served: Any) -> None:
    servicer, stub = served
    call = stub.Count(stream_pb2.CountRequest(n=1), timeout=DEADLINE)
    assert [num.value async for num in call] == [0]
    [context] = servicer.contexts
    assert isinstance(context, _PlainContext)
    # The call's deadline (which grpc sends rounded up: not above DEADLINE exactly).
    assert 0 < context.time_remaining() < 2 * DEADLINE
    ours = {n for n in dir(_PlainContext) if not n.startswith("_")}
    grpcs = {n for n in dir(cygrpc._SyncServicerContext) if not n.startswith("_")}
    assert ours == grpcs


async def _until_it_fails(call: Any) -> tuple[list[int], grpc.aio.AioRpcError]:
    """The replies of a call that must end in an error, and the error."""
    got: list[int] = []
    try:
        async for num in call:
            got.append(num.value)  # noqa: PERF401 (what came before the error)
    except grpc.aio.AioRpcError as failed:
        return got, failed
    raise AssertionError(f"the call ended without an error after {got}")


async def _wait(event: threading.Event) -> bool:
    return await asyncio.get_running_loop().run_in_executor(None, event.wait, DEADLINE)
