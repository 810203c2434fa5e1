"""One servicer behaves identically under ``start_local`` and ``serve_lambda``.

Plain (``def``) servicers run on a threaded ``grpc.server`` in both, so the
standard rich-error pattern, ``context.abort_with_status(rpc_status.to_status(...))``,
which ``grpc.aio``'s context lacks, answers the same everywhere. In both dispatch
modes (the ``mode`` fixture): direct dispatch follows the same server's rules.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import grpc
import grpc.aio
import pytest
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status
from grpcgwtest.echo.v1 import echo_pb2, echo_pb2_grpc

from grpcgw import LambdaOptions, serve_lambda, start_local
from grpcgw.awslambda import LambdaHandler
from grpcgw.server import LocalServer

from . import modes
from .test_lambda import Context, v2

mode = modes.mode


class PlainServicer(echo_pb2_grpc.EchoServiceServicer):
    """Plain methods using the threaded server's context: metadata, abort, abort_with_status."""

    def Echo(self, request: Any, context: grpc.ServicerContext) -> echo_pb2.EchoResponse:
        context.send_initial_metadata((("x-greeting", "hello"),))
        context.set_trailing_metadata((("x-trail", "bye"),))
        return echo_pb2.EchoResponse(request=request)

    def Fail(self, request: Any, context: grpc.ServicerContext) -> echo_pb2.EchoResponse:
        info = any_pb2.Any()
        info.Pack(
            error_details_pb2.ErrorInfo(
                reason="SHELF_MISSING", domain="example.com", metadata={"shelf": "7"}
            )
        )
        status = status_pb2.Status(
            code=code_pb2.NOT_FOUND, message="shelf 7 not found", details=[info]
        )
        context.abort_with_status(rpc_status.to_status(status))
        raise AssertionError("unreachable")

    def Hang(self, request: Any, context: grpc.ServicerContext) -> echo_pb2.EchoResponse:
        context.abort(grpc.StatusCode.PERMISSION_DENIED, "not yours")
        raise AssertionError("unreachable")


class _AioPassThrough(grpc.aio.ServerInterceptor):
    async def intercept_service(self, continuation: Any, details: Any) -> Any:
        return await continuation(details)


@pytest.fixture
async def local(mode: str) -> AsyncIterator[LocalServer]:
    server = await start_local(
        PlainServicer(), http_address="127.0.0.1:0", grpc_address="127.0.0.1:0", dispatch=mode
    )
    async with server:
        yield server


@pytest.fixture
def on_lambda(sock_dir: Path, mode: str) -> Iterator[LambdaHandler]:
    handler = serve_lambda(
        PlainServicer(), lambda_options=LambdaOptions(socket_dir=str(sock_dir)), dispatch=mode
    )
    yield handler
    handler.stop()


def _runs_on_grpc_aio(where: LocalServer | LambdaHandler) -> bool:
    """Whether the servicers run under grpc.aio's rules (else a threaded server's)."""
    from grpcgw.dispatch import DirectInvoker

    if isinstance(where, LocalServer):
        if isinstance(where.invoker, DirectInvoker):
            assert where.invoker.aio is where.grpc_server.is_async
        return where.grpc_server.is_async
    if where._direct is not None:
        return where._direct.invoker.aio
    assert where._server is not None
    return where._server.is_async


def _grpc_headers(headers: Any) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items() if k.lower().startswith("grpc-")}


async def _local_answer(local: LocalServer, path: str) -> tuple[int, Any, dict[str, str]]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{local.http_port}{path}") as resp,
    ):
        return resp.status, json.loads(await resp.read()), _grpc_headers(resp.headers)


def _lambda_answer(handler: LambdaHandler, path: str) -> tuple[int, Any, dict[str, str]]:
    out = handler(v2("GET", path), Context())
    return out["statusCode"], json.loads(out["body"]), _grpc_headers(out["headers"])


async def test_the_same_servicer_runs_on_the_same_kind_of_server(
    local: LocalServer, on_lambda: LambdaHandler
) -> None:
    assert local.dispatch == on_lambda.dispatch
    assert not _runs_on_grpc_aio(local)
    assert not _runs_on_grpc_aio(on_lambda)


async def test_abort_with_status_and_details_answer_alike(
    local: LocalServer, on_lambda: LambdaHandler
) -> None:
    here = await _local_answer(local, "/fail")
    there = _lambda_answer(on_lambda, "/fail")
    assert here == there
    status, body, _ = here
    assert status == 404
    assert body == {
        "code": 5,
        "message": "shelf 7 not found",
        "details": [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "SHELF_MISSING",
                "domain": "example.com",
                "metadata": {"shelf": "7"},
            }
        ],
    }


@pytest.mark.parametrize(
    ("path", "status"),
    [("/my/path", 200), ("/hang", 403)],  # metadata both ways; context.abort
)
async def test_other_answers_alike(
    local: LocalServer, on_lambda: LambdaHandler, path: str, status: int
) -> None:
    here = await _local_answer(local, path)
    assert here == _lambda_answer(on_lambda, path)
    assert here[0] == status
    if status == 200:
        assert here[2] == {"grpc-metadata-x-greeting": "hello", "grpc-trailer-x-trail": "bye"}
    else:
        assert here[1] == {"code": 7, "message": "not yours", "details": []}


async def test_with_an_aio_interceptor_both_run_grpc_aio(sock_dir: Path, mode: str) -> None:
    # A grpc.aio interceptor needs the grpc.aio server, locally and on Lambda alike.
    handler = serve_lambda(
        PlainServicer(),
        interceptors=[_AioPassThrough()],
        lambda_options=LambdaOptions(socket_dir=str(sock_dir)),
        dispatch=mode,
    )
    try:
        local = await start_local(
            PlainServicer(),
            interceptors=[_AioPassThrough()],
            http_address="127.0.0.1:0",
            grpc_address="127.0.0.1:0",
            dispatch=mode,
        )
        async with local:
            assert _runs_on_grpc_aio(local)
            assert _runs_on_grpc_aio(handler)
            assert await _local_answer(local, "/hang") == _lambda_answer(handler, "/hang")
    finally:
        handler.stop()
