"""The gateway's own 400s carry a ``google.rpc.BadRequest`` detail naming the fields
at fault, the same from every front end: ``Gateway.handle`` (socket and direct
dispatch), ``start_local``'s aiohttp edge with its fast lane and without, a Lambda
handler, and the ``grpcgw proxy`` process in front of a backend process it
reflects. Code and message stay what they were; each violation is described by
the message, and one about the request as a whole has no ``field``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import aiohttp
import pytest

import grpcgw.fastlane as fastlane
from examples.ping.service import PingServicer, ShelfServicer
from grpcgw import GatewayOptions, HttpRequest, LambdaOptions, serve_lambda, start_local
from grpcgw.awslambda import LambdaHandler
from grpcgw.server import LocalServer

from . import modes
from .conftest import ROOT
from .modes import Backend
from .openapi_echo import EchoServicer
from .proxyutil import Processes, Protos
from .test_lambda import Context, v2

mode, backend = modes.mode, modes.backend

STRICT = GatewayOptions(strict=True)
BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
JSON = {"Content-Type": "application/json"}


class Case(NamedTuple):
    method: str
    path: str
    query: str
    body: bytes | None
    message: str
    #: The violations' fields ("": none, the request as a whole).
    fields: tuple[str, ...]


def _int(value: str, where: str, kind: str = "int32") -> str:
    return f'invalid value "{value}" for {where} ({kind}): not an integer'


#: Requests the example's services (``example.v1``) refuse in strict mode.
EXAMPLE = [
    # The query: each key as the client wrote it.
    Case("GET", "/v1/shelves", "pageSize=ten", None,
         _int("ten", 'query parameter "pageSize"'), ("pageSize",)),
    Case("GET", "/v1/shelves", "page_size=ten", None,
         _int("ten", 'query parameter "page_size"'), ("page_size",)),
    Case("GET", "/v1/shelves", "genre=GENRE_NOPE", None,
         'invalid value "GENRE_NOPE" for query parameter "genre" (example.v1.Genre): '
         "not a value of enum Genre", ("genre",)),
    Case("GET", "/v1/shelves", "location.floor=high", None,
         _int("high", 'query parameter "location.floor"'), ("location.floor",)),
    Case("GET", "/v1/shelves", "pageSize=1&pageSize=2", None,
         'query parameter "pageSize" given more than once', ("pageSize",)),
    Case("GET", "/v1/shelves", "bogus=1", None, 'unknown query parameter "bogus"', ("bogus",)),
    Case("GET", "/v1/books/shelves/s/books/b", "readMask=a..b", None,
         'invalid value "a..b" for query parameter "readMask" (google.protobuf.FieldMask): '
         '"a..b" is not a field path', ("readMask",)),
    # The body: keys as written, below the body field's JSON name (body: "shelf").
    Case("POST", "/v1/shelves", "", b'{"bookCount": "many"}',
         "invalid JSON body: " + _int("many", 'field "bookCount"', "int64"),
         ("shelf.bookCount",)),
    Case("POST", "/v1/shelves", "", b'{"theme": "t", "nope": 1}',
         'invalid JSON body: unknown field "nope"', ("shelf.nope",)),
    Case("PATCH", "/v1/shelves/s", "", b'{"location": {"floor": 1, "wing": "w"}}',
         'invalid JSON body: unknown field "location.wing"', ("shelf.location.wing",)),
    Case("POST", "/v1/shelves/s/books", "", b'{"book": {"genre": "POETRY"}}',
         'invalid JSON body: invalid value "POETRY" for field "book.genre" (example.v1.Genre)',
         ("book.genre",)),
    # Not about one field: one violation without a field.
    Case("POST", "/v1/shelves", "", b"{not json",
         "invalid JSON body: Expecting property name enclosed in double quotes: "
         "line 1 column 2 (char 1)", ("",)),
    # A client stream: the fields of the message the text numbers.
    Case("POST", "/v1/books:import", "",
         b'{"parent": "shelves/s", "book": {"title": "a"}}\n'
         b'{"parent": "shelves/s", "book": {"pageCount": "x"}}\n',
         "request stream message 2: invalid JSON body: "
         + _int("x", 'field "book.pageCount"', "int64"), ("book.pageCount",)),
]  # fmt: skip

#: Requests the test echo service (``grpcgwtest.openapi.v1``) refuses in strict mode.
ECHO = [
    # Path variables of the wrong type: the variable as the template names it.
    Case("GET", "/v1/things/x/HAPPY", "view=v", None,
         _int("x", 'path parameter "id"', "int64"), ("id",)),
    Case("GET", "/v1/things/1/GRUMPY", "view=v", None,
         'invalid value "GRUMPY" for path parameter "mood" (grpcgwtest.openapi.v1.Mood): '
         "not a value of enum Mood", ("mood",)),
    # REQUIRED fields (strict mode).
    Case("GET", "/v1/things/1/HAPPY", "", None, 'missing required query parameter "view"',
         ("view",)),
    Case("POST", "/v1/groups/g/things", "", b'{"thing": {}}',
         'missing required field "thing.title" in the JSON body', ("thing.title",)),
    Case("PATCH", "/v1/groups/g/things/t", "", None, "the request body is required", ("thing",)),
    # A body value contradicting the path (strict mode): the path's field.
    Case("PATCH", "/v1/groups/g/things/t", "", b'{"name": "groups/g/things/u", "title": "t"}',
         'field "thing.name" is bound by the path; the body must not set it to another value',
         ("thing.name",)),
    # Two members of a oneof: both.
    Case("PATCH", "/v1/groups/g/things/t", "", b'{"title": "t", "note": "a", "number": 1}',
         'invalid JSON body: fields "note" and "number" both set oneof "kind"',
         ("thing.note", "thing.number")),
    # A client stream of whole messages (body: "*"): paths within the message.
    Case("POST", "/v1/things:collect", "", b'{"title": "a"}\n{"title": "b", "size": "big"}\n',
         "request stream message 2: invalid JSON body: "
         + _int("big", 'field "size"', "int64"), ("size",)),
]  # fmt: skip

CASES = EXAMPLE + ECHO


def expected(case: Case) -> dict[str, Any]:
    violations = [
        {"field": f, "description": case.message} if f else {"description": case.message}
        for f in case.fields
    ]
    return {
        "code": 3,
        "message": case.message,
        "details": [{"@type": BAD_REQUEST, "fieldViolations": violations}],
    }


def _servicers() -> tuple[object, ...]:
    return PingServicer(), ShelfServicer(), EchoServicer()


def _ids(cases: list[Case]) -> list[str]:
    return [f"{c.method} {c.path}?{c.query}" for c in cases]


# -- Gateway.handle, in both dispatch modes -----------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
async def test_handle(backend: Backend, case: Case) -> None:
    gateway = await backend.gateway(*_servicers(), options=STRICT)
    headers = [("Content-Type", "application/json")] if case.body is not None else []
    resp = await gateway.handle(
        HttpRequest(
            case.method, case.path, query=case.query, headers=headers, body=case.body or b""
        )
    )
    assert resp.status == 400, resp.body
    assert resp.header("Content-Type") == "application/json"
    assert resp.json() == expected(case)


async def test_a_patch_body_key_naming_no_field_for_the_mask(backend: Backend) -> None:
    """Lenient mode ignores an unknown key, but the PATCH field mask cannot name it:
    the violation names it as the client wrote it (the message, as before, in proto
    names below the body)."""
    gateway = await backend.gateway(*_servicers())
    body = b'{"location": {"floor": 1, "wing": "w"}}'
    resp = await gateway.handle(HttpRequest("PATCH", "/v1/shelves/s", body=body))
    message = 'invalid JSON body: unknown field "location.wing" for the field mask'
    case = Case("PATCH", "/v1/shelves/s", "", body, message, ("shelf.location.wing",))
    assert (resp.status, resp.json()) == (400, expected(case))
    body = b'{"parentThing": {"nope": 1}}'
    resp = await gateway.handle(HttpRequest("PATCH", "/v1/groups/g/things/t", body=body))
    message = 'invalid JSON body: unknown field "parent_thing.nope" for the field mask'
    case = Case("PATCH", "/v1/groups/g/things/t", "", body, message, ("thing.parentThing.nope",))
    assert (resp.status, resp.json()) == (400, expected(case))


async def test_use_proto_names_names_the_body_field_by_its_proto_name(backend: Backend) -> None:
    """The one part of the path the client did not write: the body field, named as
    the gateway writes its JSON."""
    gateway = await backend.gateway(
        *_servicers(), options=GatewayOptions(strict=True, use_proto_names=True)
    )
    resp = await gateway.handle(HttpRequest("PATCH", "/v1/groups/g/things/t", body=b'{"ti": 1}'))
    case = Case("PATCH", "", "", None, 'invalid JSON body: unknown field "ti"', ("thing.ti",))
    assert resp.json() == expected(case)


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/v1/shelves/%zz", b"", 400),  # routing: a malformed escape in the path
        ("GET", "/v1/nothing/here", b"", 404),
        ("POST", "/v1/shelves", b"x" * 70, 413),
    ],
)
async def test_errors_outside_the_request_message_have_no_details(
    backend: Backend, method: str, path: str, body: bytes, status: int
) -> None:
    gateway = await backend.gateway(
        *_servicers(), options=GatewayOptions(strict=True, max_request_body=64)
    )
    resp = await gateway.handle(HttpRequest(method, path, body=body))
    assert resp.status == status, resp.body
    assert resp.json()["details"] == []


async def test_an_error_hook_gets_the_detail(backend: Backend) -> None:
    seen: list[list[dict[str, Any]]] = []

    def hook(request: HttpRequest, error: Any) -> Any:
        seen.append(error.details)
        from grpcgw.exchange import error_response

        return error_response(error)

    gateway = await backend.gateway(*_servicers(), error_hook=hook)
    resp = await gateway.handle(HttpRequest("GET", "/v1/shelves", query="pageSize=ten"))
    assert seen == [resp.json()["details"]]
    assert seen[0][0]["fieldViolations"][0]["field"] == "pageSize"


# -- start_local: aiohttp's path and the edge's fast lane -----------------------------------


@pytest.fixture(params=[True, False], ids=["lane", "aiohttp"])
async def local(request: pytest.FixtureRequest, mode: str) -> AsyncIterator[LocalServer]:
    fastlane._lane_off = not request.param
    try:
        server = await start_local(
            *_servicers(),
            http_address="127.0.0.1:0",
            grpc_address="127.0.0.1:0",
            dispatch=mode,
            options=STRICT,
        )
    finally:
        fastlane._lane_off = False
    async with server:
        yield server


async def test_local(local: LocalServer, http: aiohttp.ClientSession) -> None:
    base = f"http://127.0.0.1:{local.http_port}"
    for case in CASES:
        url = f"{base}{case.path}" + (f"?{case.query}" if case.query else "")
        headers = JSON if case.body is not None else {}
        async with http.request(case.method, url, data=case.body, headers=headers) as resp:
            assert resp.status == 400, (case, await resp.read())
            assert resp.headers["Content-Type"] == "application/json"
            assert json.loads(await resp.read()) == expected(case), case


async def test_the_lane_served_them(mode: str, http: aiohttp.ClientSession) -> None:
    """The fast lane answers the bad GETs itself, with the same detail."""
    server = await start_local(
        *_servicers(),
        http_address="127.0.0.1:0",
        grpc_address="127.0.0.1:0",
        dispatch=mode,
        options=STRICT,
    )
    async with server:
        lane = server.http_server._site._lane
        assert lane is not None, "the lane is not on"
        gets = [c for c in CASES if c.method == "GET"]
        before = lane.served
        for case in gets:
            url = f"http://127.0.0.1:{server.http_port}{case.path}?{case.query}"
            async with http.get(url) as resp:
                assert json.loads(await resp.read()) == expected(case), case
        assert lane.served - before == len(gets)


# -- Lambda -------------------------------------------------------------------------------


@pytest.fixture
def on_lambda(sock_dir: Path, mode: str) -> Iterator[LambdaHandler]:
    handler = serve_lambda(
        *_servicers(),
        lambda_options=LambdaOptions(socket_dir=str(sock_dir)),
        dispatch=mode,
        options=STRICT,
    )
    yield handler
    handler.stop()


def test_lambda(on_lambda: LambdaHandler) -> None:
    for case in CASES:
        headers = {"content-type": "application/json"} if case.body is not None else {}
        event = v2(case.method, case.path, body=case.body, query=case.query, headers=headers)
        out = on_lambda(event, Context())
        assert out["statusCode"] == 400, (case, out)
        assert {k.lower(): v for k, v in out["headers"].items()}["content-type"] == JSON[
            "Content-Type"
        ]
        assert json.loads(out["body"]) == expected(case), case


# -- the proxy, in front of a backend in another process -----------------------------------


async def test_proxy(
    protos: tuple[Protos, Protos], sock_dir: Path, processes: Processes, http: aiohttp.ClientSession
) -> None:
    """Descriptors from reflection, in a pool of the proxy's own: the detail's type
    comes from the default pool all the same."""
    target = f"unix://{sock_dir}/backend.sock"
    await processes.backend(protos[0], target)
    _, url = await processes.proxy(sock_dir, "--target", target, "--reflect", "--strict")
    answers = []
    for case in EXAMPLE:
        full = f"{url}{case.path}" + (f"?{case.query}" if case.query else "")
        headers = JSON if case.body is not None else {}
        async with http.request(case.method, full, data=case.body, headers=headers) as resp:
            answers.append((resp.status, json.loads(await resp.read())))
    assert answers == [(400, expected(case)) for case in EXAMPLE]


async def test_the_detail_costs_nothing_on_success() -> None:
    """The detail's message types are imported on the first bad request, not before."""
    code = (
        "import asyncio, sys\n"
        "import examples.ping\n"
        "from examples.ping.service import PingServicer, ShelfServicer\n"
        "from grpcgw import Gateway, HttpRequest\n"
        "from grpcgw.dispatch import DirectInvoker\n"
        "async def main():\n"
        "    servicers = [PingServicer(), ShelfServicer()]\n"
        "    gw = Gateway(servicers, invoker=DirectInvoker(servicers))\n"
        "    ok = await gw.handle(HttpRequest('GET', '/v1/shelves', query='pageSize=2'))\n"
        "    before = 'google.rpc.error_details_pb2' in sys.modules\n"
        "    bad = await gw.handle(HttpRequest('GET', '/v1/shelves', query='pageSize=x'))\n"
        "    after = 'google.rpc.error_details_pb2' in sys.modules\n"
        "    print(ok.status, before, bad.status, after)\n"
        "asyncio.run(main())\n"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        code,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    assert out.decode().split() == ["200", "False", "400", "True"]
