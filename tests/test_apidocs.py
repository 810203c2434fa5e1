"""The API description served by the gateway: the documents, the explorer, on every front end.

The gateway core (``Gateway.handle``), the aiohttp adapter (``create_app``,
``setup`` with a prefix), ``serve_local``, the proxy and ``serve_lambda`` on a
named stage; with real gRPC servers throughout.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from examples.ping.service import PingServicer, ShelfServicer
from grpcgw import (
    CorsOptions,
    Gateway,
    GatewayOptions,
    HttpRequest,
    LambdaOptions,
    RouteConfigError,
    serve_lambda,
    start_local,
)
from grpcgw.apidocs import relative_url, server_url
from grpcgw.explorer import FILES, INIT_SCRIPT, find_swagger_ui
from grpcgw.logs import ACCESS_LOGGER
from grpcgw.web import create_app, setup

from . import lambda_http
from .conftest import ROOT
from .protoc import descriptor_set, pool_of

AiohttpClient = Any
ON = GatewayOptions(api_docs=True)
EXAMPLE = [PingServicer(), ShelfServicer()]


def get(path: str, *headers: tuple[str, str], method: str = "GET") -> HttpRequest:
    path, _, query = path.partition("?")
    return HttpRequest(method, path, query=query, headers=list(headers))


@pytest.fixture
async def gateway(example_target: str) -> Any:
    async with Gateway(EXAMPLE, target=example_target, options=ON) as gw:
        yield gw


# -- the documents ------------------------------------------------------------------------


async def test_the_documents_are_the_gateways_own_with_a_relative_server(
    gateway: Gateway,
) -> None:
    resp = await gateway.handle(get("/openapi.json"))
    assert resp.status == 200
    assert resp.header("Content-Type") == "application/json"
    assert resp.header("Cache-Control") == "no-cache"
    assert resp.header("X-Content-Type-Options") == "nosniff"
    served = resp.json()
    assert served["servers"] == [{"url": ".", "description": "this gateway"}]
    assert list(served)[:3] == ["openapi", "info", "servers"]
    # Otherwise the very document Gateway.openapi() builds (which has no servers).
    own = gateway.openapi()
    assert "servers" not in own
    assert {k: v for k, v in served.items() if k != "servers"} == own

    swagger = await gateway.handle(get("/swagger.json"))
    assert swagger.status == 200
    assert swagger.header("Content-Type") == "application/json"
    assert swagger.json() == gateway.openapi("2.0")
    assert swagger.json()["swagger"] == "2.0"


async def test_etag_304_and_head(gateway: Gateway) -> None:
    first = await gateway.handle(get("/openapi.json"))
    etag = first.header("ETag")
    assert etag is not None
    assert etag.startswith('"')
    again = await gateway.handle(get("/openapi.json"))
    assert again.header("ETag") == etag
    assert again.body == first.body  # encoded once: the same bytes
    for sent in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        cached = await gateway.handle(get("/openapi.json", ("If-None-Match", sent)))
        assert cached.status == 304, sent
        assert cached.body == b""
        assert cached.header("ETag") == etag
        assert cached.header("Cache-Control") == "no-cache"
    stale = await gateway.handle(get("/openapi.json", ("If-None-Match", '"other"')))
    assert stale.status == 200
    head = await gateway.handle(get("/openapi.json", method="HEAD"))
    assert head.status == 200
    assert head.body == b""
    assert head.header("Content-Length") == str(len(first.body))
    assert head.header("ETag") == etag
    # Another document, another tag.
    swagger = await gateway.handle(get("/swagger.json"))
    assert swagger.header("ETag") != etag


async def test_other_methods_answer_405_with_allow(gateway: Gateway) -> None:
    for method in ("POST", "PUT", "DELETE", "OPTIONS"):
        resp = await gateway.handle(get("/openapi.json", method=method))
        assert resp.status == 405, method
        assert resp.header("Allow") == "GET, HEAD"
        assert resp.header("Content-Type") == "application/json"
        assert resp.json()["code"] == 12


async def test_the_document_follows_replaced_services(example_target: str) -> None:
    async with Gateway([PingServicer()], target=example_target, options=ON) as gw:
        first = await gw.handle(get("/openapi.json"))
        assert set(first.json()["paths"]) == {"/v1/ping"}
        gw.replace_services(EXAMPLE)
        second = await gw.handle(get("/openapi.json"))
        assert "/v1/shelves" in second.json()["paths"]
        assert second.header("ETag") != first.header("ETag")
        old = await gw.handle(get("/openapi.json", ("If-None-Match", first.header("ETag") or "")))
        assert old.status == 200


# -- the explorer -------------------------------------------------------------------------


def _page_urls(body: bytes) -> dict[str, str]:
    """The URLs a page names: its files (by name) and the document (``document``)."""
    text = body.decode()
    urls = {}
    for attribute in ("href", "src"):
        for part in text.split(f'{attribute}="')[1:]:
            url = part.split('"', 1)[0]
            urls[url.split("?")[0].rsplit("/", 1)[-1]] = url
    urls["document"] = text.split('data-url="', 1)[1].split('"', 1)[0]
    return urls


async def test_the_page_and_its_files(gateway: Gateway) -> None:
    page = await gateway.handle(get("/docs"))
    assert page.status == 200
    assert page.header("Content-Type") == "text/html; charset=utf-8"
    assert page.header("Cache-Control") == "no-cache"
    policy = page.header("Content-Security-Policy") or ""
    assert "script-src 'self';" in policy
    assert "connect-src 'self'" in policy
    assert b"example.v1.PingService, example.v1.ShelfService - API explorer" in page.body
    urls = _page_urls(page.body)
    assert urls["document"] == "openapi.json"
    base = "https://gw.example/docs"
    for name in FILES:
        url = urls[name]
        assert url.startswith(f"docs/{name}?v=")  # relative to the page: prefixes survive
        assert urljoin(base, url).startswith(f"https://gw.example/docs/{name}?v=")
        resp = await gateway.handle(get("/" + url))
        assert resp.status == 200, name
        assert resp.header("Content-Type") == FILES[name]
        assert resp.header("Cache-Control") == "public, max-age=31536000, immutable"
        tag = (resp.header("ETag") or "").strip('"')
        assert url.endswith(f"?v={tag[:12]}")  # a new file gets a new URL
        assert resp.body
    ui = find_swagger_ui()
    bundle = await gateway.handle(get("/docs/swagger-ui-bundle.js"))
    assert bundle.body == (ui.directory / "swagger-ui-bundle.js").read_bytes()
    init = await gateway.handle(get("/docs/" + INIT_SCRIPT))
    assert b"validatorUrl: null" in init.body
    # Only the listed files: no source maps, nothing else of the package's.
    for other in ("swagger-ui-bundle.js.map", "index.html", "../openapi.json", "x"):
        assert (await gateway.handle(get("/docs/" + other))).status == 404, other


async def test_the_page_with_a_trailing_slash(gateway: Gateway) -> None:
    page = await gateway.handle(get("/docs/"))
    assert page.status == 200
    urls = _page_urls(page.body)
    assert urls["document"] == "../openapi.json"
    assert urls["swagger-ui.css"].startswith("./swagger-ui.css?v=")
    assert urljoin("https://gw.example/docs/", urls["swagger-ui.css"]).startswith(
        "https://gw.example/docs/swagger-ui.css"
    )


async def test_paths_are_options(example_target: str) -> None:
    options = GatewayOptions(
        api_docs=True,
        openapi_path="/api/v1/openapi.json",
        swagger_path=None,
        docs_path="/api/explorer",
    )
    async with Gateway(EXAMPLE, target=example_target, options=options) as gw:
        for gone in ("/openapi.json", "/swagger.json", "/docs"):
            assert (await gw.handle(get(gone))).status == 404, gone
        doc = (await gw.handle(get("/api/v1/openapi.json"))).json()
        # The server is the gateway's root, relative to where the document is.
        assert doc["servers"][0]["url"] == "../.."
        assert urljoin("https://gw.example/prod/api/v1/openapi.json", "../..") == (
            "https://gw.example/prod/"
        )
        page = await gw.handle(get("/api/explorer"))
        urls = _page_urls(page.body)
        assert urls["document"] == "v1/openapi.json"
        assert urls["swagger-ui.css"].startswith("explorer/swagger-ui.css")
        assert (await gw.handle(get("/api/explorer/swagger-ui.css"))).status == 200
        assert gw.api_docs_paths[:2] == ("/api/v1/openapi.json", "/api/explorer")


async def test_the_page_shows_swagger_20_without_the_31_document(example_target: str) -> None:
    options = GatewayOptions(api_docs=True, openapi_path=None)
    async with Gateway(EXAMPLE, target=example_target, options=options) as gw:
        assert _page_urls((await gw.handle(get("/docs"))).body)["document"] == "swagger.json"


def test_relative_urls() -> None:
    assert relative_url("/", "/openapi.json") == "openapi.json"
    assert relative_url("/docs/", "/openapi.json") == "../openapi.json"
    assert relative_url("/a", "/a/b/c.json") == "b/c.json"
    assert relative_url("/a/b", "/x.json") == "../../x.json"
    assert server_url("/openapi.json") == "."
    assert server_url("/a/openapi.json") == ".."
    assert server_url("/a/b/openapi.json") == "../.."


# -- off unless asked, and when asked ------------------------------------------------------


async def test_off_by_default_for_a_gateway_of_your_own(example_target: str) -> None:
    async with Gateway(EXAMPLE, target=example_target) as gw:
        assert gw.api_docs_paths == ()
        assert gw.serve_api_docs(get("/openapi.json")) is None
        for path in ("/openapi.json", "/swagger.json", "/docs"):
            assert (await gw.handle(get(path))).status == 404
    off = GatewayOptions(api_docs=False)
    async with Gateway(EXAMPLE, target=example_target, options=off) as gw:
        assert (await gw.handle(get("/openapi.json"))).status == 404


async def test_one_path_at_a_time_can_be_left_out(example_target: str) -> None:
    options = GatewayOptions(api_docs=True, docs_path=None)
    async with Gateway(EXAMPLE, target=example_target, options=options) as gw:
        assert (await gw.handle(get("/openapi.json"))).status == 200
        assert (await gw.handle(get("/docs"))).status == 404
        assert (await gw.handle(get("/docs/swagger-ui.css"))).status == 404


def test_options_refuse_paths_that_cannot_be_served() -> None:
    for bad in ("docs", "/docs/", "/", "/a b", "/a?x", "//docs", "/d%2Fcs", ""):
        with pytest.raises(ValueError, match="docs_path must be a path"):
            GatewayOptions(docs_path=bad)
    with pytest.raises(ValueError, match="openapi_path and swagger_path are both '/x'"):
        GatewayOptions(openapi_path="/x", swagger_path="/x")
    with pytest.raises(ValueError, match="health_path and docs_path are both '/docs'"):
        GatewayOptions(health_path="/docs")
    with pytest.raises(ValueError, match="below docs_path"):
        GatewayOptions(openapi_path="/docs/openapi.json")
    with pytest.raises(ValueError, match="needs openapi_path or swagger_path"):
        GatewayOptions(openapi_path=None, swagger_path=None)
    with pytest.raises(ValueError, match="api_docs must be a bool"):
        GatewayOptions(api_docs="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="health_path must be a str or None, not True"):
        GatewayOptions(health_path=True)  # type: ignore[arg-type]
    GatewayOptions(openapi_path=None, swagger_path=None, docs_path=None)


# -- bindings on those paths ----------------------------------------------------------------

CLAIMS = """
syntax = "proto3";
package claims.v1;
import "google/api/annotations.proto";
message M { string name = 1; }
service Literal {
  rpc Docs(M) returns (M) { option (google.api.http) = {get: "/docs"}; }
}
service Spec {
  rpc Spec(M) returns (M) {
    option (google.api.http) = {post: "/v1/x" additional_bindings {put: "/openapi.json" body: "*"}};
  }
}
service Anything {
  rpc Any(M) returns (M) { option (google.api.http) = {get: "/{name=**}"}; }
}
"""


@pytest.fixture(scope="module")
def claims(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("claims")
    (root / "claims.proto").write_text(CLAIMS)
    return pool_of(descriptor_set(root, ["claims.proto"], root / "claims.pb"))


def test_a_binding_on_a_served_path_is_an_error_naming_both(claims: Any) -> None:
    target = "unix:///nowhere.sock"
    with pytest.raises(RouteConfigError) as exc:
        Gateway(["claims.v1.Literal"], pool=claims, target=target, options=ON)
    message = str(exc.value)
    assert "claims.v1.Literal.Docs" in message
    assert "GET /docs" in message
    assert "GatewayOptions.docs_path" in message
    with pytest.raises(RouteConfigError, match=r"claims\.v1\.Spec\.Spec \(PUT /openapi\.json"):
        Gateway(["claims.v1.Spec"], pool=claims, target=target, options=ON)
    # Both at once, in one error.
    with pytest.raises(RouteConfigError) as both:
        Gateway(["claims.v1.Literal", "claims.v1.Spec"], pool=claims, target=target, options=ON)
    assert sorted(line.split(" (")[0] for line in both.value.problems) == [
        "claims.v1.Literal.Docs",
        "claims.v1.Spec.Spec",
    ]
    # Not served there: no conflict.
    Gateway(["claims.v1.Literal", "claims.v1.Spec"], pool=claims, target=target)
    moved = GatewayOptions(api_docs=True, docs_path="/explorer", openapi_path="/api.json")
    Gateway(["claims.v1.Literal", "claims.v1.Spec"], pool=claims, target=target, options=moved)
    # replace_services checks the new routes too, and keeps the old ones on error.
    gw = Gateway(["claims.v1.Anything"], pool=claims, target=target, options=ON)
    with pytest.raises(RouteConfigError, match="docs_path"):
        gw.replace_services(["claims.v1.Literal"], pool=claims)
    assert [r.rpc for r in gw.routes] == ["/claims.v1.Anything/Any"]


async def test_a_wildcard_binding_yields_the_served_paths(
    claims: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="grpcgw")
    gw = Gateway(["claims.v1.Anything"], pool=claims, target="unix:///nowhere.sock", options=ON)
    warned = [r.getMessage() for r in caplog.records if "also matches" in r.getMessage()]
    assert any("GET /{name=**}" in m and "/openapi.json" in m for m in warned)
    assert len(warned) == 1  # one line for the binding, not one per path
    assert (await gw.handle(get("/openapi.json"))).status == 200
    assert (await gw.handle(get("/docs"))).status == 200
    assert gw.match("GET", "/other").target.rpc == "/claims.v1.Anything/Any"
    await gw.aclose()


# -- CORS and the access log ------------------------------------------------------------------


async def test_cors_and_the_access_log(
    example_target: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    options = GatewayOptions(
        api_docs=True, access_log=True, cors=CorsOptions(allow_origins=["https://app.example"])
    )
    async with Gateway(EXAMPLE, target=example_target, options=options) as gw:
        origin = ("Origin", "https://app.example")
        resp = await gw.handle(get("/openapi.json", origin))
        assert resp.header("Access-Control-Allow-Origin") == "https://app.example"
        preflight = await gw.handle(
            get(
                "/openapi.json",
                origin,
                ("Access-Control-Request-Method", "GET"),
                method="OPTIONS",
            )
        )
        assert preflight.status == 204
        assert preflight.header("Access-Control-Allow-Origin") == "https://app.example"
        assert "GET" in (preflight.header("Access-Control-Allow-Methods") or "")
        refused = await gw.handle(
            get(
                "/openapi.json",
                origin,
                ("Access-Control-Request-Method", "DELETE"),
                method="OPTIONS",
            )
        )
        assert refused.status == 403
        cached = await gw.handle(
            get("/openapi.json", origin, ("If-None-Match", resp.header("ETag") or ""))
        )
        assert cached.status == 304
        assert cached.header("Access-Control-Allow-Origin") == "https://app.example"
    lines = [(r.method, r.path, r.status) for r in caplog.records if r.name == ACCESS_LOGGER]
    assert lines == [
        ("GET", "/openapi.json", 200),
        ("OPTIONS", "/openapi.json", 204),
        ("OPTIONS", "/openapi.json", 403),
        ("GET", "/openapi.json", 304),
    ]


# -- the aiohttp adapter, serve_local, the proxy ----------------------------------------------


async def test_create_app_serves_them_when_asked(
    example_target: str, aiohttp_client: AiohttpClient
) -> None:
    off: TestClient[Any, Any] = await aiohttp_client(
        create_app(Gateway(EXAMPLE, target=example_target))
    )
    resp = await off.get("/openapi.json")
    assert resp.status == 404
    assert resp.headers["Content-Type"] == "application/json"

    on: TestClient[Any, Any] = await aiohttp_client(
        create_app(Gateway(EXAMPLE, target=example_target, options=ON))
    )
    resp = await on.get("/openapi.json")
    assert resp.status == 200
    etag = resp.headers["ETag"]
    assert (await on.get("/openapi.json", headers={"If-None-Match": etag})).status == 304
    head = await on.head("/docs")
    assert head.status == 200
    assert head.headers["Content-Type"] == "text/html; charset=utf-8"
    post = await on.post("/docs")
    assert post.status == 405
    assert (await post.json())["code"] == 12
    assert (await on.get("/v1/ping")).status == 200


async def test_setup_under_a_prefix(example_target: str, aiohttp_client: AiohttpClient) -> None:
    app = web.Application()
    setup(app, Gateway(EXAMPLE, target=example_target, options=ON), prefix="/api")
    client: TestClient[Any, Any] = await aiohttp_client(app)
    assert (await client.get("/openapi.json")).status == 404
    doc = await (await client.get("/api/openapi.json")).json()
    assert doc["servers"][0]["url"] == "."  # resolves to /api/, where the routes are
    assert (await client.get("/api/v1/ping")).status == 200
    page = await client.get("/api/docs")
    urls = _page_urls(await page.read())
    css = await client.get(urljoin("/api/docs", urls["swagger-ui.css"]))
    assert css.status == 200
    assert css.headers["Content-Type"] == "text/css; charset=utf-8"


async def test_serve_local_serves_them_by_default() -> None:
    async with (
        await start_local(
            *EXAMPLE, http_address="127.0.0.1:0", grpc_address="127.0.0.1:0"
        ) as local,
        aiohttp.ClientSession() as session,
    ):
        base = f"http://127.0.0.1:{local.http_port}"
        for path, kind in (
            ("/openapi.json", "application/json"),
            ("/swagger.json", "application/json"),
            ("/docs", "text/html; charset=utf-8"),
        ):
            async with session.get(base + path) as resp:
                assert resp.status == 200, path
                assert resp.headers["Content-Type"] == kind
    off = GatewayOptions(api_docs=False)
    async with (
        await start_local(
            *EXAMPLE, http_address="127.0.0.1:0", grpc_address="127.0.0.1:0", options=off
        ) as local,
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{local.http_port}/docs") as resp,
    ):
        assert resp.status == 404


# -- Lambda: off unless asked; on a named stage, every URL stays under it --------------------


def test_lambda_off_by_default(sock_dir: Path) -> None:
    handler = serve_lambda(*EXAMPLE, lambda_options=LambdaOptions(socket_dir=str(sock_dir)))
    try:
        resp = handler(lambda_http.http_api_event("GET", "/prod/openapi.json"))
    finally:
        handler.stop()
    assert resp["statusCode"] == 404


def test_lambda_on_a_named_stage(sock_dir: Path) -> None:
    handler = serve_lambda(
        *EXAMPLE, lambda_options=LambdaOptions(socket_dir=str(sock_dir)), options=ON
    )
    try:
        # What a browser does with https://<api>.execute-api.../prod/docs:
        site = f"https://{lambda_http.DOMAIN}"
        page_url = site + "/prod/docs"
        page = handler(lambda_http.http_api_event("GET", "/prod/docs"))
        assert page["statusCode"] == 200
        assert page["headers"]["Content-Type"] == "text/html; charset=utf-8"
        urls = _page_urls(page["body"].encode())
        document_url = urljoin(page_url, urls["document"])
        assert document_url == site + "/prod/openapi.json"
        for name in FILES:
            url = urljoin(page_url, urls[name])
            assert url.startswith(f"{site}/prod/docs/{name}?v="), url
            path, _, query = url.removeprefix(site).partition("?")
            resp = handler(lambda_http.http_api_event("GET", path, query))
            assert resp["statusCode"] == 200, name
            assert resp["headers"]["Content-Type"] == FILES[name]
            assert resp["isBase64Encoded"] is (name.endswith(".png"))
        doc = handler(lambda_http.http_api_event("GET", "/prod/openapi.json"))
        served = json.loads(doc["body"])
        api_root = urljoin(document_url, served["servers"][0]["url"])
        assert api_root == site + "/prod/"
        # "Try it out": the server URL and the operation's path.
        call = urljoin(api_root, "v1/ping")
        ping = handler(lambda_http.http_api_event("GET", call.removeprefix(site)))
        assert json.loads(ping["body"]) == {"message": "Pong"}
        cached = handler(
            lambda_http.http_api_event(
                "GET", "/prod/openapi.json", headers={"If-None-Match": doc["headers"]["ETag"]}
            )
        )
        assert cached["statusCode"] == 304
    finally:
        handler.stop()


def test_lambda_builds_nothing_before_the_first_request(sock_dir: Path) -> None:
    """A cold start with the API description on imports neither the document builder
    nor the explorer's files; the first request for the document does."""
    code = textwrap.dedent(
        """
        import sys
        sys.path[:0] = ["tests", "."]
        import examples.ping
        from examples.ping.service import PingServicer
        import grpcgw
        from lambda_http import http_api_event
        handler = grpcgw.serve_lambda(
            PingServicer(),
            options=grpcgw.GatewayOptions(api_docs=True),
            lambda_options=grpcgw.LambdaOptions(socket_dir=SOCKET_DIR),
        )
        def loaded():
            names = ("grpcgw.openapi", "swagger_ui_bundle", "jinja2", "aiohttp")
            return sorted(m for m in sys.modules if m.split(".")[0] in names or m in names)
        print(loaded())
        print(handler(http_api_event("GET", "/prod/v1/ping"))["statusCode"], loaded())
        print(handler(http_api_event("GET", "/prod/openapi.json"))["statusCode"], loaded())
        handler.stop()
        """
    ).replace("SOCKET_DIR", repr(str(sock_dir)))
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    before, after_ping, after_document = result.stdout.splitlines()
    assert before == "[]"
    assert after_ping == "200 []"
    assert after_document.startswith("200 ['grpcgw.openapi")
    assert "aiohttp" not in after_document
    assert "swagger_ui_bundle" not in after_document  # the page was not asked for


def test_the_page_says_what_is_missing_without_the_package() -> None:
    """Without Swagger UI's package the documents are served and the page answers
    501 naming the package (what a Lambda zip without it gets)."""
    code = textwrap.dedent(
        """
        import asyncio, json, sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "swagger_ui_bundle":
                    raise ImportError("not installed")
        sys.meta_path.insert(0, Block())
        sys.path[:0] = ["tests", "."]
        import examples.ping
        from examples.ping.service import PingServicer
        from grpcgw import Gateway, GatewayOptions, HttpRequest
        async def main():
            gw = Gateway([PingServicer()], target="unix:///nowhere.sock",
                         options=GatewayOptions(api_docs=True))
            for path in ("/openapi.json", "/docs", "/docs/swagger-ui.css"):
                resp = await gw.handle(HttpRequest("GET", path))
                print(json.dumps([path, resp.status, resp.json() if resp.status >= 400 else None]))
        asyncio.run(main())
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert answers[0] == ["/openapi.json", 200, None]
    for path, status, body in answers[1:]:
        assert status == 501, path
        assert body["code"] == 12
        assert "pip install swagger-ui-bundle-v2" in body["message"]


def test_swagger_ui_4_gets_the_swagger_20_document(tmp_path: Path) -> None:
    """With only Swagger UI 4 installed (the older swagger-ui-bundle, as connexion
    brings), which cannot render OpenAPI 3.1, the page shows the 2.0 document; with
    both, the newest is used."""
    ui = find_swagger_ui()
    package = tmp_path / "swagger_ui_bundle"
    old = package / "vendor" / "swagger-ui-4.15.5"
    old.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for name in FILES:
        if name != INIT_SCRIPT:
            (old / name).write_bytes(b"/* 4.15.5 */")
    code = textwrap.dedent(
        f"""
        import asyncio, sys
        sys.path[:0] = [{str(tmp_path)!r}, "tests", "."]
        import examples.ping
        from examples.ping.service import PingServicer
        from grpcgw import Gateway, GatewayOptions, HttpRequest
        from grpcgw.explorer import find_swagger_ui
        async def main():
            print(find_swagger_ui().version_text)
            gw = Gateway([PingServicer()], target="unix:///nowhere.sock",
                         options=GatewayOptions(api_docs=True))
            page = (await gw.handle(HttpRequest("GET", "/docs"))).body.decode()
            print(page.split('data-url="')[1].split('"')[0])
            css = await gw.handle(HttpRequest("GET", "/docs/swagger-ui.css"))
            print(css.body.decode())
        asyncio.run(main())
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["4.15.5", "swagger.json", "/* 4.15.5 */"]
    # Beside the installed Swagger UI 5, the newest wins.
    newest = package / "vendor" / ui.directory.name
    newest.symlink_to(ui.directory)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:2] == [ui.version_text, "openapi.json"]
    assert ui.renders_openapi_31


async def test_the_proxy_serves_them_by_default_and_takes_the_settings(
    example_target: str, tmp_path: Path
) -> None:
    """The options are settings like any other: flags, GRPCGW_* and TOML keys."""
    from grpcgw.proxy._config import load_config
    from grpcgw.proxy._serve import start_proxy
    from grpcgw.settings import Layer

    given = {
        "target": example_target,
        "imports": ("example.v1.ping_pb2",),
        "http_address": "127.0.0.1:0",
    }
    file = tmp_path / "proxy.toml"
    file.write_text('[gateway]\ndocs_path = "/explorer"\n')
    config, merged = load_config(
        Layer(given, {}), environ={"GRPCGW_SWAGGER_PATH": "none"}, config_file=file
    )
    assert config.gateway.api_docs is None  # the proxy's default: on
    assert (config.gateway.docs_path, config.gateway.swagger_path) == ("/explorer", None)
    assert merged.origins["swagger_path"] == "GRPCGW_SWAGGER_PATH"
    proxy = await start_proxy(config)
    try:
        base = f"http://127.0.0.1:{proxy.http_port}"
        async with aiohttp.ClientSession() as session:
            for path, status in (
                ("/openapi.json", 200),
                ("/explorer", 200),
                ("/explorer/swagger-ui.css", 200),
                ("/swagger.json", 404),
                ("/docs", 404),
                ("/v1/ping", 200),
            ):
                async with session.get(base + path) as resp:
                    assert resp.status == status, path
    finally:
        await proxy.stop()
    off, _ = load_config(Layer({**given, "api_docs": False}, {"api_docs": "--no-api-docs"}), {})
    assert off.gateway.api_docs is False
    proxy = await start_proxy(off)
    try:
        url = f"http://127.0.0.1:{proxy.http_port}/openapi.json"
        async with aiohttp.ClientSession() as session, session.get(url) as resp:
            assert resp.status == 404
    finally:
        await proxy.stop()


def test_the_proxys_probes_cannot_take_those_paths() -> None:
    from grpcgw.proxy._config import ConfigError, ProxyConfig

    with pytest.raises(ConfigError, match="ready_path and docs_path are both '/docs'"):
        ProxyConfig(target="localhost:1", reflect=True, ready_path="/docs")
    with pytest.raises(ConfigError, match="live_path and openapi_path"):
        ProxyConfig(
            target="localhost:1",
            reflect=True,
            live_path="/healthz",
            gateway=GatewayOptions(openapi_path="/healthz"),
        )
    ProxyConfig(
        target="localhost:1",
        reflect=True,
        ready_path="/docs",
        gateway=GatewayOptions(api_docs=False),
    )


# -- proto comments: from a descriptor set given, or the file openapi_comments names -------


PING_COMMENT = 'The smallest useful service: GET /v1/ping answers {"message":"Pong"}.'
SHELF_COMMENT = "A small library service that exercises every HttpRule mapping rule:"
PATCH_COMMENT = "PATCH with a field mask; the path binds a nested field of the body message."
COMMENTED = {"PingService": PING_COMMENT, "ShelfService": SHELF_COMMENT}


@pytest.fixture(scope="module")
def example_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example's protos as protoc --include_imports --include_source_info writes them."""
    out = tmp_path_factory.mktemp("example") / "api.binpb"
    protos = ["example/v1/ping.proto", "example/v1/shelf.proto"]
    descriptor_set(ROOT / "examples" / "ping" / "proto", protos, out)
    return out


def service_comments(document: dict[str, Any]) -> dict[str, str | None]:
    """The first line of each service's description (its comment), ``None`` where none."""
    return {
        tag["name"]: tag["description"].splitlines()[0] if "description" in tag else None
        for tag in document["tags"]
    }


async def test_comments_of_the_descriptor_set_given_follow_replaced_services(
    example_target: str, example_set: Path
) -> None:
    from google.protobuf.descriptor_pb2 import FileDescriptorSet

    files = FileDescriptorSet.FromString(example_set.read_bytes())  # noqa: ASYNC240
    pool = pool_of(files)
    services = [pool.FindServiceByName(f"example.v1.{n}") for n in ("PingService", "ShelfService")]
    async with Gateway(services, target=example_target, options=ON, descriptor_set=files) as gw:
        assert gw.descriptor_set == tuple(files.file)
        for path in ("/openapi.json", "/swagger.json"):
            document = (await gw.handle(get(path))).json()
            assert service_comments(document) == COMMENTED, path
            assert document["paths"]["/v1/shelves/{name}"]["patch"]["summary"] == PATCH_COMMENT
        assert gw.openapi()["tags"] == (await gw.handle(get("/openapi.json"))).json()["tags"]
        assert (await gw.handle(get("/v1/ping"))).status == 200

        gw.replace_services(services[:1])  # the comments go with the services they describe
        assert gw.descriptor_set is None
        assert service_comments((await gw.handle(get("/openapi.json"))).json()) == {
            "PingService": None
        }
        gw.replace_services(services[:1], descriptor_set=files.file)
        assert service_comments((await gw.handle(get("/openapi.json"))).json()) == {
            "PingService": PING_COMMENT
        }


async def test_serve_local_takes_comments_from_openapi_comments(example_set: Path) -> None:
    """Servicers of generated code (no source info) described by a descriptor set's comments."""
    options = GatewayOptions(openapi_comments=str(example_set))
    for dispatch in ("socket", "direct"):
        async with (
            await start_local(
                *EXAMPLE,
                http_address="127.0.0.1:0",
                grpc_address="127.0.0.1:0",
                options=options,
                dispatch=dispatch,
            ) as local,
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{local.http_port}/openapi.json") as resp,
        ):
            document = await resp.json()
        assert service_comments(document) == COMMENTED, dispatch
        assert document["paths"]["/v1/shelves/{name}"]["patch"]["summary"] == PATCH_COMMENT


async def test_openapi_comments_win_over_the_descriptor_set_given(
    example_target: str, example_set: Path, tmp_path: Path
) -> None:
    from google.protobuf.descriptor_pb2 import FileDescriptorSet

    bare = FileDescriptorSet.FromString(example_set.read_bytes())  # noqa: ASYNC240
    for file in bare.file:
        file.ClearField("source_code_info")
    options = GatewayOptions(api_docs=True, openapi_comments=str(example_set))
    async with Gateway(EXAMPLE, target=example_target, options=options, descriptor_set=bare) as gw:
        assert service_comments((await gw.handle(get("/openapi.json"))).json()) == COMMENTED
        gw.replace_services([PingServicer()], descriptor_set=bare)
        assert service_comments((await gw.handle(get("/openapi.json"))).json()) == {
            "PingService": PING_COMMENT
        }


def test_openapi_comments_that_cannot_be_read_fail_the_gateway(
    example_set: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from google.protobuf.descriptor_pb2 import FileDescriptorSet

    for bad in ("", 1, Path("api.binpb")):
        with pytest.raises(
            ValueError, match=r"GatewayOptions\.openapi_comments must be a file name"
        ):
            GatewayOptions(openapi_comments=bad)  # type: ignore[arg-type]

    def build(path: Path) -> Gateway:
        options = GatewayOptions(openapi_comments=str(path))
        return Gateway(EXAMPLE, target="unix:///nowhere.sock", options=options)

    missing = tmp_path / "missing.binpb"
    with pytest.raises(ValueError, match="cannot read it") as raised:
        build(missing)
    assert str(raised.value) == (
        f"GatewayOptions.openapi_comments ({missing}): cannot read it: No such file or directory"
    )
    garbage = tmp_path / "garbage.binpb"
    garbage.write_bytes(b"\xff\xff")
    with pytest.raises(ValueError, match=r"\(.*garbage.binpb\) is not a FileDescriptorSet"):
        build(garbage)
    bare = FileDescriptorSet.FromString(example_set.read_bytes())
    for file in bare.file:
        file.ClearField("source_code_info")
    plain = tmp_path / "plain.binpb"
    plain.write_bytes(bare.SerializeToString())
    caplog.set_level(logging.WARNING, logger="grpcgw")
    gateway = build(plain)  # served, without comments, and said so
    assert service_comments(gateway.openapi()) == {"PingService": None, "ShelfService": None}
    assert (
        f"GatewayOptions.openapi_comments ({plain}) holds no comments: build it with protoc "
        "--include_source_info" in caplog.text
    )


async def test_the_proxy_takes_openapi_comments_as_a_setting(
    example_target: str, example_set: Path
) -> None:
    from grpcgw.proxy._config import load_config
    from grpcgw.proxy._serve import start_proxy
    from grpcgw.settings import Layer

    given = {
        "target": example_target,
        "imports": ("example.v1.ping_pb2",),
        "http_address": "127.0.0.1:0",
    }
    config, _ = load_config(Layer(given, {}), environ={"GRPCGW_OPENAPI_COMMENTS": str(example_set)})
    proxy = await start_proxy(config)
    try:
        url = f"http://127.0.0.1:{proxy.http_port}/openapi.json"
        async with aiohttp.ClientSession() as session, session.get(url) as resp:
            document = await resp.json()
    finally:
        await proxy.stop()
    assert service_comments(document) == {"PingService": PING_COMMENT}
