"""DirectInvoker on its own: registration, validation, its context, and the cases where it
deliberately differs from a real server (docs/dispatch.md). What it shares with a real
server is proven in test_dispatch_equivalence.py."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any

import grpc
import grpc.aio
import pytest
from aiohttp.test_utils import TestClient
from example.v1 import ping_pb2
from grpcgwtest.stream.v1 import stream_pb2, stream_pb2_grpc

import grpcgw.dispatch._blocking
from examples.ping.service import PingServicer, ShelfServicer, SyncPingServicer
from grpcgw import Gateway, GatewayOptions, HttpRequest
from grpcgw.channel import run_blocking
from grpcgw.dispatch import BlockingDispatch, DirectInvoker
from grpcgw.dispatch._blocking import run_until_complete
from grpcgw.grpcserver import ServerConfigError
from grpcgw.web import create_app

from . import modes
from .modes import Backend
from .test_dispatch_equivalence import AioPing, Streams, SyncPing, SyncStreams, pong

# The socket/direct fixtures (a test taking ``backend`` runs in both modes).
mode, backend = modes.mode, modes.backend

WAIT = 10.0


def ping(**kwargs: Any) -> HttpRequest:
    return HttpRequest("GET", "/v1/ping", **kwargs)


# -- what the invoker learns from a servicer ------------------------------------------------


def _old_generation_add(servicer: Any, server: Any) -> None:
    """What grpcio-tools wrote before 1.62: generic handlers only."""
    handlers = {
        "Ping": grpc.unary_unary_rpc_method_handler(
            servicer.Ping,
            request_deserializer=ping_pb2.PingRequest.FromString,
            response_serializer=ping_pb2.PingResponse.SerializeToString,
        )
    }
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("example.v1.PingService", handlers),)
    )


async def test_handlers_of_every_grpcio_tools_generation() -> None:
    from grpcgw.descriptors import ServiceInfo

    descriptor = ping_pb2.DESCRIPTOR.services_by_name["PingService"]
    old = ServiceInfo(descriptor, PingServicer(), _old_generation_add)
    for service in (old, PingServicer()):
        invoker = DirectInvoker([service])
        async with Gateway([descriptor], invoker=invoker) as gw:
            assert (await gw.handle(ping())).body == b'{"message":"Pong"}'
        await invoker.aclose()


async def test_a_method_no_servicer_registered_is_unimplemented() -> None:
    invoker = DirectInvoker([PingServicer()])
    async with Gateway([PingServicer(), ShelfServicer()], invoker=invoker) as gw:
        response = await gw.handle(HttpRequest("GET", "/v1/shelves"))
    assert response.status == 501
    # grpc's own text, hidden as a real server's is (expose_internal_errors shows it).
    assert response.json() == {"code": 12, "message": "unimplemented", "details": []}


class _Sync(grpc.ServerInterceptor):  # type: ignore[misc]
    def intercept_service(self, continuation: Any, details: Any) -> Any:
        return continuation(details)


class _Aio(grpc.aio.ServerInterceptor):
    async def intercept_service(self, continuation: Any, details: Any) -> Any:
        return await continuation(details)


def test_servicers_and_interceptors_are_checked_as_grpcserver_does() -> None:
    with pytest.raises(ServerConfigError, match=r"async servicers need grpc\.aio"):
        DirectInvoker([PingServicer()], interceptors=[_Sync()])
    with pytest.raises(ServerConfigError, match="mix"):
        DirectInvoker([SyncPingServicer()], interceptors=[_Sync(), _Aio()])
    with pytest.raises(ServerConfigError, match=r"is not a grpc\.ServerInterceptor"):
        DirectInvoker([PingServicer()], interceptors=[object()])
    with pytest.raises(ServerConfigError, match="a servicer instance is needed"):
        DirectInvoker(["example.v1.PingService"])
    with pytest.raises(ServerConfigError, match="inline dispatch runs plain servicers"):
        DirectInvoker([PingServicer()], inline=True)
    with pytest.raises(ServerConfigError, match="inline dispatch runs plain servicers"):
        DirectInvoker([SyncPingServicer()], interceptors=[_Aio()], inline=True)
    with pytest.raises(TypeError, match="at least one servicer"):
        DirectInvoker([])
    # Which server's rules apply, as GrpcServer.start picks the server.
    assert DirectInvoker([PingServicer()]).aio
    assert not DirectInvoker([SyncPingServicer()]).aio
    assert DirectInvoker([SyncPingServicer()], prefer_threaded=False).aio
    assert not DirectInvoker([SyncPingServicer()], interceptors=[_Sync()]).aio
    assert DirectInvoker([SyncPingServicer()], interceptors=[_Aio()], prefer_threaded=True).aio


# -- the context ---------------------------------------------------------------------------


async def test_the_aio_context_interface() -> None:
    seen: dict[str, Any] = {}
    done = asyncio.Event()

    async def behaviour(request: Any, context: Any) -> Any:
        assert isinstance(context, grpc.aio.ServicerContext)
        seen["peer"] = context.peer()
        seen["auth"] = context.auth_context()
        seen["identities"] = (context.peer_identities(), context.peer_identity_key())
        seen["before"] = (context.code(), context.details(), context.done(), context.cancelled())
        seen["read"] = await context.read()
        with pytest.raises(grpc.aio.UsageError):
            await context.write(pong())
        context.set_compression(grpc.Compression.Gzip)
        context.disable_next_message_compression()
        context.add_done_callback(lambda ctx: (seen.setdefault("done", ctx.done()), done.set()))
        await context.send_initial_metadata((("a", "1"),))
        with pytest.raises(grpc.aio.UsageError, match="already sent"):
            await context.send_initial_metadata((("b", "2"),))
        with pytest.raises(RuntimeError, match="before sending initial metadata"):
            context.set_compression(grpc.Compression.Gzip)
        with pytest.raises(TypeError, match="Invalid trailing metadata"):
            context.set_trailing_metadata((("k", 1),))
        context.set_trailing_metadata((("k", "v"),))
        seen["trailing"] = context.trailing_metadata()
        try:
            await context.abort(grpc.StatusCode.NOT_FOUND, "gone")
        except grpc.aio.AbortError:
            seen["after"] = (context.code(), context.details(), context.done())
        with pytest.raises(grpc.aio.UsageError, match="Abort already called"):
            await context.abort(grpc.StatusCode.INTERNAL, "again")
        return pong()

    invoker = DirectInvoker([AioPing(behaviour)])
    async with Gateway([AioPing(behaviour)], invoker=invoker) as gw:
        response = await gw.handle(ping())
    assert response.status == 404
    assert response.json()["message"] == "gone"
    assert response.header("Grpc-Metadata-a") == "1"
    assert response.header("Grpc-Trailer-k") == "v"
    await asyncio.wait_for(done.wait(), WAIT)
    assert seen["peer"] == "inproc:grpcgw"
    assert seen["auth"] == {
        "transport_security_type": [b"insecure"],
        "security_level": [b"TSI_SECURITY_NONE"],
    }
    assert seen["identities"] == (None, None)
    assert seen["before"] == (None, "", False, False)
    assert seen["read"] is grpc.aio.EOF
    assert seen["trailing"] == (("k", "v"),)
    assert seen["after"] == (grpc.StatusCode.NOT_FOUND, "gone", True)
    assert seen["done"] is True


async def test_the_plain_context_interface_of_a_threaded_server() -> None:
    seen: dict[str, Any] = {}

    def behaviour(request: Any, context: Any) -> Any:
        assert isinstance(context, grpc.ServicerContext)
        seen["before"] = (context.code(), context.details(), context.trailing_metadata())
        seen["active"] = context.is_active()
        assert context.add_callback(lambda: seen.setdefault("callback", True))
        context.send_initial_metadata((("a", "1"),))
        with pytest.raises(ValueError, match="Initial metadata no longer allowed"):
            context.send_initial_metadata((("b", "2"),))
        context.set_details("why")
        seen["details"] = context.details()
        context.abort(grpc.StatusCode.OK, "ignored")

    invoker = DirectInvoker([SyncPing(behaviour)], prefer_threaded=True)
    async with Gateway([SyncPing(behaviour)], invoker=invoker) as gw:
        response = await gw.handle(ping())
    await invoker.aclose()
    # abort(OK) is UNKNOWN with no details on a threaded grpc.server.
    assert (response.status, response.json()["code"], response.json()["message"]) == (
        500,
        2,
        "UNKNOWN",
    )
    assert seen == {
        "before": (None, None, None),
        "active": True,
        "callback": True,
        "details": b"why",
    }


async def test_aio_abort_with_ok_ends_the_call() -> None:
    # A grpc.aio server never answers such a call (the client waits for its deadline);
    # direct dispatch answers as a threaded server does.
    async def behaviour(request: Any, context: Any) -> Any:
        await context.abort(grpc.StatusCode.OK, "fine")

    invoker = DirectInvoker([AioPing(behaviour)])
    async with Gateway([AioPing(behaviour)], invoker=invoker) as gw:
        response = await gw.handle(ping())
    assert (response.status, response.json()["code"]) == (500, 2)


async def test_cancelled_is_true_once_the_deadline_cancelled_the_call() -> None:
    seen: list[bool] = []
    cancelled = asyncio.Event()

    async def behaviour(request: Any, context: Any) -> Any:
        try:
            await asyncio.Event().wait()
        finally:
            seen.append(context.cancelled())
            cancelled.set()

    invoker = DirectInvoker([AioPing(behaviour)])
    async with Gateway([AioPing(behaviour)], invoker=invoker) as gw:
        response = await gw.handle(ping(deadline=0.05))
    assert response.status == 504
    await asyncio.wait_for(cancelled.wait(), WAIT)
    assert seen == [True]


async def test_a_deadline_passed_by_a_handler_that_never_suspends() -> None:
    # No timer can fire while a handler computes without yielding; the reply came
    # after the deadline, so the client sees DEADLINE_EXCEEDED, as over the network.
    async def behaviour(request: Any, context: Any) -> Any:
        while (context.time_remaining() or 0) > 0:
            pass
        return pong()

    invoker = DirectInvoker([AioPing(behaviour)])
    async with Gateway([AioPing(behaviour)], invoker=invoker) as gw:
        response = await gw.handle(ping(deadline=0.02))
        assert response.status == 504
        # The gateway's task is left as it was: nothing cancels it afterwards.
        await asyncio.sleep(0)
        assert (await gw.handle(ping())).status == 200


async def test_the_caller_cancelling_reaches_an_aio_handler(backend: Backend) -> None:
    entered, cancelled = asyncio.Event(), asyncio.Event()

    async def behaviour(request: Any, context: Any) -> Any:
        entered.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    gw = await backend.gateway(AioPing(behaviour))
    task = asyncio.ensure_future(gw.handle(ping()))
    await asyncio.wait_for(entered.wait(), WAIT)
    task.cancel()  # aiohttp cancels the handler when the client disconnects
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(cancelled.wait(), WAIT)


async def test_a_plain_handler_sees_the_stream_cancelled(backend: Backend) -> None:
    seen: list[Any] = []
    ended = threading.Event()

    class Watch(stream_pb2_grpc.StreamServiceServicer):
        def Count(self, request: Any, context: Any) -> Iterator[stream_pb2.Num]:
            over = threading.Event()
            context.add_callback(over.set)  # run once the call is over (cancelled here)
            try:
                yield stream_pb2.Num(value=1)
                assert over.wait(WAIT)
                seen.append(("active", context.is_active()))
            finally:
                # Or closed at its yield: a server stops iterating a cancelled call's
                # generator (grpc does when the cancellation comes while it sends).
                ended.set()

    gw = await backend.gateway(Watch(), prefer_threaded=True)
    response = await gw.handle(HttpRequest("GET", "/count/5"))
    assert response.stream is not None
    assert await response.stream.__anext__() == b'{"result":{"value":"1"}}\n'
    await response.stream.aclose()
    assert await asyncio.get_running_loop().run_in_executor(None, ended.wait, WAIT)
    assert seen in ([], [("active", False)])


async def test_client_disconnect_cancels_the_stream(backend: Backend, aiohttp_client: Any) -> None:
    servicer = Streams()
    client: TestClient[Any, Any] = await aiohttp_client(create_app(await backend.gateway(servicer)))
    resp = await client.get("/count/3?hold=true")
    assert json.loads(await asyncio.wait_for(resp.content.readline(), WAIT))["result"]
    resp.close()
    await asyncio.wait_for(servicer.cancelled.wait(), WAIT)


async def test_a_plain_generator_aborting_after_one_reply_ends_on_grpc_aio_rules() -> None:
    # A grpc.aio server often never ends this call (docs/dispatch.md); direct dispatch does.
    invoker = DirectInvoker([SyncStreams()], prefer_threaded=False)
    async with Gateway([SyncStreams()], invoker=invoker) as gw:
        for _ in range(20):
            response = await gw.handle_buffered(HttpRequest("GET", "/count/2", query="failAt=2"))
            assert response.body.endswith(
                b'{"error":{"code":9,"message":"failed at 2","details":[]}}\n'
            )
    await invoker.aclose()


# -- messages --------------------------------------------------------------------------------


async def test_the_request_reaches_the_handler_without_a_copy() -> None:
    # Nothing is serialized: the handler gets the message the gateway built, which the
    # gateway never reads again (a handler changing it changes nothing the client sees).
    received: list[Any] = []

    async def behaviour(request: Any, context: Any) -> Any:
        received.append(request)
        return pong()

    invoker = DirectInvoker([AioPing(behaviour)])
    request = ping_pb2.PingRequest()
    spec = Gateway([AioPing(behaviour)], invoker=invoker).routes[0].spec
    await invoker.unary(spec, request, metadata=(), deadline=None)
    assert received == [request]
    assert received[0] is request


async def test_a_handler_with_another_message_class_gets_one_read_from_bytes() -> None:
    # As on the wire, the handler's own deserializer builds its request.
    class Other:
        @staticmethod
        def FromString(data: bytes) -> Any:
            return ("parsed", data)

    received: list[Any] = []

    def behaviour(request: Any, context: Any) -> Any:
        received.append(request)
        return pong()

    def add(servicer: Any, server: Any) -> None:
        server.add_registered_method_handlers(
            "example.v1.PingService",
            {
                "Ping": grpc.unary_unary_rpc_method_handler(
                    behaviour, request_deserializer=Other.FromString
                )
            },
        )

    from grpcgw.descriptors import ServiceInfo

    descriptor = ping_pb2.DESCRIPTOR.services_by_name["PingService"]
    invoker = DirectInvoker([ServiceInfo(descriptor, object(), add)], prefer_threaded=True)
    async with Gateway([descriptor], invoker=invoker) as gw:
        response = await gw.handle(ping())
    await invoker.aclose()
    # No serializer: the reply must already be bytes, as grpc would send it.
    assert response.status == 500
    assert received == [("parsed", b"")]


# -- inline (what serve_lambda would run) ----------------------------------------------------


def test_inline_dispatch_never_suspends() -> None:
    invoker = DirectInvoker([SyncPingServicer()], prefer_threaded=True, inline=True)
    gateway = Gateway([SyncPingServicer()], invoker=invoker)
    response = run_blocking(gateway.handle_buffered(ping(deadline=5.0)))
    assert response.body == b'{"message":"Pong"}'
    streams = DirectInvoker([SyncStreams()], prefer_threaded=True, inline=True)
    gateway = Gateway([SyncStreams()], invoker=streams)
    response = run_blocking(
        gateway.handle_buffered(HttpRequest("POST", "/double", body=b'{"value":2}\n'))
    )
    assert response.body == b'{"result":{"value":"4"}}\n'


def test_inline_dispatch_checks_the_deadline_when_the_handler_returns() -> None:
    seen: list[bool] = []

    def behaviour(request: Any, context: Any) -> Any:
        while context.time_remaining() > 0:
            pass
        seen.append(context.is_active())
        return pong()

    invoker = DirectInvoker([SyncPing(behaviour)], prefer_threaded=True, inline=True)
    gateway = Gateway([SyncPing(behaviour)], invoker=invoker)
    response = run_blocking(gateway.handle_buffered(ping(deadline=0.02)))
    assert response.status == 504
    assert seen == [False]


def test_blocking_dispatch_runs_plain_servicers_on_the_calling_thread() -> None:
    threads: list[int] = []

    def behaviour(request: Any, context: Any) -> Any:
        threads.append(threading.get_ident())
        return pong()

    dispatch = BlockingDispatch([SyncPing(behaviour)], interceptors=[_Sync()])
    assert dispatch.inline
    gateway = Gateway([SyncPing(behaviour)], invoker=dispatch.invoker)
    response = dispatch.run(gateway.handle_buffered(ping(deadline=5.0)))
    assert response.body == b'{"message":"Pong"}'
    assert threads == [threading.get_ident()]
    dispatch.close()


def test_blocking_dispatch_runs_async_servicers_on_a_loop_of_its_own() -> None:
    loops: list[Any] = []

    async def behaviour(request: Any, context: Any) -> Any:
        loops.append(asyncio.get_running_loop())
        ready = asyncio.Event()
        asyncio.get_running_loop().call_soon(ready.set)
        await ready.wait()  # really suspends: needs a running loop
        return pong()

    async def slow(request: Any, context: Any) -> Any:
        await asyncio.Event().wait()

    dispatch = BlockingDispatch([AioPing(behaviour)])
    assert not dispatch.inline
    gateway = Gateway([AioPing(behaviour)], invoker=dispatch.invoker)
    for _ in range(2):
        response = dispatch.run(gateway.handle_buffered(ping(deadline=5.0)))
        assert response.body == b'{"message":"Pong"}'
    assert loops[0] is loops[1]  # one loop, kept between invocations
    dispatch.close()
    dispatch = BlockingDispatch([AioPing(slow)])
    gateway = Gateway([AioPing(slow)], invoker=dispatch.invoker)
    assert dispatch.run(gateway.handle_buffered(ping(deadline=0.05))).status == 504
    dispatch.close()


# -- the pool, health ------------------------------------------------------------------------


async def test_plain_handlers_share_a_bounded_pool() -> None:
    running, most = 0, 0
    lock = threading.Lock()

    def behaviour(request: Any, context: Any) -> Any:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        threading.Event().wait(0.002)
        with lock:
            running -= 1
        return pong()

    invoker = DirectInvoker([SyncPing(behaviour)], max_workers=3)
    async with Gateway([SyncPing(behaviour)], invoker=invoker) as gw:
        responses = await asyncio.gather(*(gw.handle(ping()) for _ in range(40)))
    await invoker.aclose()
    assert {r.status for r in responses} == {200}
    assert 1 <= most <= 3


async def test_health_can_report_not_serving() -> None:
    from grpc_health.v1 import health_pb2

    invoker = DirectInvoker([PingServicer()], add_health=True)
    options = GatewayOptions(health_path="/healthz")
    async with Gateway([PingServicer()], invoker=invoker, options=options) as gw:
        assert (await gw.handle(HttpRequest("GET", "/healthz"))).status == 200
        invoker.health.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
        assert (await gw.handle(HttpRequest("GET", "/healthz"))).status == 503
    await invoker.aclose()


# -- BlockingDispatch's loop turns ------------------------------------------------------


def _scenarios() -> dict[str, Callable[[list[str]], Coroutine[Any, Any, str]]]:
    """Coroutines that leave work behind them on the loop in every way there is."""

    async def returns(log: list[str]) -> str:
        return "done"

    async def raises(log: list[str]) -> str:
        raise LookupError("raised")

    async def soon(log: list[str]) -> str:
        loop = asyncio.get_running_loop()
        loop.call_soon(log.append, "soon")
        # A callback that schedules another: the loop's last turn runs only the first.
        loop.call_soon(lambda: (log.append("chain 1"), loop.call_soon(log.append, "chain 2")))
        return "done"

    async def later(log: list[str]) -> str:
        loop = asyncio.get_running_loop()
        loop.call_later(0, log.append, "later 0")
        loop.call_later(30, log.append, "later 30")
        return "done"

    async def background(log: list[str]) -> str:
        async def task() -> None:
            log.append("task start")
            await asyncio.sleep(0)
            log.append("task resumed")

        asyncio.get_running_loop().create_task(task())
        return "done"

    async def suspends(log: list[str]) -> str:
        await asyncio.sleep(0)
        log.append("resumed")
        future = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_soon(future.set_result, "later")
        return str(await future)

    async def task_aware(log: list[str]) -> str:
        async with asyncio.timeout(10):  # needs a current task
            log.append(f"task {asyncio.current_task() is not None}")
            await asyncio.sleep(0)
        return "done"

    async def running(log: list[str]) -> str:
        loop = asyncio.get_running_loop()
        log.append(f"running {loop.is_running()} {asyncio.get_event_loop() is loop}")
        return "done"

    async def agen(log: list[str]) -> str:
        # The loop's async generator hooks: one left unfinished is closed on the loop.
        async def numbers() -> AsyncIterator[int]:
            try:
                yield 1
                yield 2
            finally:
                log.append("agen closed")

        numbers_ = numbers()
        log.append(f"first {await numbers_.__anext__()}")
        del numbers_
        return "done"

    scenarios = (returns, raises, soon, later, background, suspends, task_aware, running, agen)
    return {f.__name__: f for f in scenarios}


@pytest.mark.parametrize("hand_turn", [True, False], ids=["hand-turn", "asyncio-turn"])
@pytest.mark.parametrize("debug", [False, True], ids=["", "debug"])
@pytest.mark.parametrize("scenario", sorted(_scenarios()))
def test_run_until_complete_does_what_the_loops_own_does(
    scenario: str, debug: bool, hand_turn: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Differential: the result, and what ran on the loop by the end of the call and by
    the end of the next one, are those of ``loop.run_until_complete`` (on an idle loop
    the first turn is run by hand: a debug loop's by ``run_forever``; on a Python newer
    than those tested, always by ``run_forever``)."""
    monkeypatch.setattr(grpcgw.dispatch._blocking, "_HAND_TURN", hand_turn)
    make = _scenarios()[scenario]
    seen = []
    for run in (lambda loop, c: loop.run_until_complete(c), run_until_complete):
        loop = asyncio.new_event_loop()
        loop.set_debug(debug)
        log: list[str] = []
        try:
            outcome: object = run(loop, make(log))
        except LookupError as exc:
            outcome = exc.args
        after_first = list(log)
        with contextlib.suppress(LookupError):
            run(loop, make([]))  # the next invocation: what was left runs as it would
        seen.append((outcome, after_first, list(log)))
        loop.close()
    assert seen[0] == seen[1]


async def test_a_streamed_response_says_how_to_read_it_in_tests() -> None:
    """In a test (docs/testing.md), a server-streaming method's response has its
    messages in ``stream``; ``json()`` names that instead of failing to parse an
    empty ``body``, and ``read()`` collects the lines."""
    servicers = [ShelfServicer()]
    invoker = DirectInvoker(servicers)
    gateway = Gateway(servicers, invoker=invoker)
    try:
        created = await gateway.handle(
            HttpRequest("POST", "/v1/shelves", query="shelfId=sf", body=b'{"theme": "Sci-fi"}')
        )
        assert created.status == 201
        watched = await gateway.handle(HttpRequest("GET", "/v1/shelves:watch"))
        assert watched.stream is not None
        with pytest.raises(
            ValueError, match=r"streamed .*application/x-ndjson.*response\.read\(\)"
        ):
            watched.json()
        lines = (await watched.read()).splitlines()
        assert [json.loads(line)["result"]["name"] for line in lines] == ["shelves/sf"]
    finally:
        await gateway.aclose()
        await invoker.aclose()
