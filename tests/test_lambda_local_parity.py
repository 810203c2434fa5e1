"""One servicer behaves identically under ``start_local`` and ``serve_lambda``.

Plain (``def``) servicers run on a threaded ``grpc.server`` in both, so the
standard rich-error pattern, ``context.abort_with_status(rpc_status.to_status(...))``,
which ``grpc.aio``'s context lacks, answers the same everywhere.
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

from .test_lambda import Context, v2


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
async def local() -> AsyncIterator[LocalServer]:
    server = await start_local(
        PlainServicer(), http_address="127.0.0.1:0", grpc_address="127.0.0.1:0"
    )
    async with server:
        yield server


@pytest.fixture
def on_lambda(sock_dir: Path) -> Iterator[LambdaHandler]:
    handler = serve_lambda(PlainServicer(), lambda_options=LambdaOptions(socket_dir=str(sock_dir)))
    yield handler
    handler.stop()


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
    assert on_lambda._server is not None
    assert not local.grpc_server.is_async
    assert not on_lambda._server.is_async


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


async def test_with_an_aio_interceptor_both_run_grpc_aio(sock_dir: Path) -> None:
    # A grpc.aio interceptor needs the grpc.aio server, locally and on Lambda alike.
    handler = serve_lambda(
        PlainServicer(),
        interceptors=[_AioPassThrough()],
        lambda_options=LambdaOptions(socket_dir=str(sock_dir)),
    )
    try:
        local = await start_local(
            PlainServicer(),
            interceptors=[_AioPassThrough()],
            http_address="127.0.0.1:0",
            grpc_address="127.0.0.1:0",
        )
        async with local:
            assert handler._server is not None
            assert local.grpc_server.is_async
            assert handler._server.is_async
            assert await _local_answer(local, "/hang") == _lambda_answer(handler, "/hang")
    finally:
        handler.stop()
