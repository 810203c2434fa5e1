"""The API description, served by the gateway itself: the OpenAPI documents and the explorer.

With ``GatewayOptions(api_docs=True)`` (the default of ``serve_local`` and the
proxy) every front end answers, before routing:

- ``GET openapi_path`` (``/openapi.json``): the OpenAPI 3.1 document of the
  routes served (:mod:`grpcgw.openapi`), with a ``servers`` entry relative to
  the document, so that clients call the gateway that served it whatever path
  prefix stands in front (an API Gateway stage, a reverse proxy);
- ``GET swagger_path`` (``/swagger.json``): the Swagger 2.0 document;
- ``GET docs_path`` (``/docs``, or ``/docs/``): the explorer page
  (:mod:`grpcgw.explorer`), and its files below ``docs_path/``.

Nothing is built before it is asked for (a Lambda cold start pays nothing):
a document is built on its first request, encoded once, and kept until the
gateway's routes change. Each answer carries a strong ``ETag`` made from its
bytes (``If-None-Match`` answers ``304``), ``Cache-Control`` (``no-cache`` for
the documents and the page, which change with the routes; a year for the
explorer's files, whose URLs carry their version), ``X-Content-Type-Options:
nosniff``, and HEAD is answered like GET without the body. CORS headers and
the access line are added by the gateway, as for every answer.

Pure: the standard library; :mod:`grpcgw.openapi` and the explorer's files are
loaded on first use.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from grpcgw.errors import Code, GatewayError
from grpcgw.exchange import JSON_CONTENT_TYPE, HttpRequest, HttpResponse
from grpcgw.options import GatewayOptions

__all__ = ["ALLOWED_METHODS", "ApiDocs", "Asset", "relative_url", "served_paths", "server_url"]

#: The methods the API description answers (OPTIONS only as a CORS preflight).
ALLOWED_METHODS: Final = ("GET", "HEAD")
_NO_CACHE: Final = "no-cache"
_FOREVER: Final = "public, max-age=31536000, immutable"
_HTML: Final = "text/html; charset=utf-8"
# The page loads nothing from elsewhere and runs no inline script; Swagger UI sets
# inline styles and draws some icons from data: URLs.
_PAGE_POLICY: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; font-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'self'; form-action 'self'"
)


@dataclass(frozen=True, slots=True)
class Asset:
    """One answer body, with what its headers say about it."""

    body: bytes
    content_type: str
    cache_control: str = _NO_CACHE
    extra_headers: tuple[tuple[str, str], ...] = ()
    etag: str = field(init=False)

    def __post_init__(self) -> None:
        digest = hashlib.blake2b(self.body, digest_size=12).hexdigest()
        object.__setattr__(self, "etag", f'"{digest}"')

    @property
    def tag(self) -> str:
        """The ETag without its quotes: a version tag for URLs."""
        return self.etag.strip('"')


def relative_url(from_dir: str, to_path: str) -> str:
    """The relative URL that leads from a page in directory ``from_dir`` (the part of
    its path up to the last ``/``) to ``to_path``: ``("/", "/openapi.json")`` ->
    ``"openapi.json"``, ``("/docs/", "/openapi.json")`` -> ``"../openapi.json"``."""
    target_dir, name = posixpath.split(to_path)
    up = posixpath.relpath(target_dir, from_dir.rstrip("/") or "/")
    return name if up == "." else f"{up}/{name}"


def server_url(document_path: str) -> str:
    """The ``servers`` URL of a document served at ``document_path``: the gateway's
    root, relative to the document (``.`` for ``/openapi.json``, ``..`` one level down)."""
    directory = posixpath.dirname(document_path)
    return posixpath.relpath("/", directory)


def served_paths(options: GatewayOptions) -> dict[str, str]:
    """Every path the API description is served at with these options (the
    documents, the page with and without its ``/``, the page's files), each with
    the name of the option that puts it there; empty unless ``api_docs`` is on."""
    out: dict[str, str] = {}
    for name, path in options.api_docs_paths().items():
        out[path] = name
        if name == "docs_path":
            from grpcgw.explorer import FILES

            out[path + "/"] = name
            out.update((f"{path}/{file}", name) for file in FILES)
    return out


def _not_modified(request: HttpRequest, etag: str) -> bool:
    """``If-None-Match`` names ``etag`` (weak comparison, RFC 9110 13.1.2) or is ``*``."""
    for name, value in request.headers:
        if name.lower() != "if-none-match":
            continue
        for candidate in value.split(","):
            candidate = candidate.strip()
            if candidate == "*" or candidate.removeprefix("W/") == etag:
                return True
    return False


class ApiDocs:
    """What :class:`~grpcgw.Gateway` answers at the API description's paths.

    ``describe(version)`` gives the gateway's document (``"3.1"`` or ``"2.0"``),
    cached by the gateway until its routes change; a new document object makes a
    new answer here.
    """

    def __init__(self, options: GatewayOptions, describe: Callable[[str], dict[str, Any]]) -> None:
        self._describe = describe
        self._openapi_path = options.openapi_path
        self._swagger_path = options.swagger_path
        self._docs_path = options.docs_path
        #: path -> what is served there
        self._targets: dict[str, Callable[[], Asset]] = {}
        for path, name in served_paths(options).items():
            if name == "openapi_path":
                self._targets[path] = lambda: self._document("3.1")
            elif name == "swagger_path":
                self._targets[path] = lambda: self._document("2.0")
            elif path == options.docs_path:
                self._targets[path] = lambda: self._page(slash=False)
            elif path == f"{options.docs_path}/":
                self._targets[path] = lambda: self._page(slash=True)
            else:
                file = path.rpartition("/")[2]
                self._targets[path] = lambda file=file: self._file(file)  # type: ignore[misc]
        #: version -> (the document it was made from, the answer)
        self._documents: dict[str, tuple[object, Asset]] = {}
        self._pages: dict[bool, tuple[object, Asset]] = {}
        self._files: dict[str, Asset] = {}
        self._ui: Any = None

    @property
    def paths(self) -> tuple[str, ...]:
        """Every path answered here (the documents, the page, the page's files)."""
        return tuple(self._targets)

    def find(self, path: str) -> Callable[[], Asset] | None:
        """What is served at ``path`` (raw, without its query), or ``None``."""
        return self._targets.get(path)

    def answer(self, request: HttpRequest, target: Callable[[], Asset]) -> HttpResponse:
        """The answer to a GET or HEAD at a path :meth:`find` knows: the asset, or
        ``304`` when ``If-None-Match`` names it. Raises :class:`GatewayError` (405
        for another method; 501 when the explorer's files are not installed)."""
        if request.method not in ALLOWED_METHODS:
            raise GatewayError(
                Code.UNIMPLEMENTED,
                f"method {request.method} is not allowed for {request.path}",
                http_status=405,
                headers=[("Allow", ", ".join(ALLOWED_METHODS))],
            )
        asset = target()
        headers = [("ETag", asset.etag), ("Cache-Control", asset.cache_control)]
        if _not_modified(request, asset.etag):
            return HttpResponse(304, headers)
        headers += [
            ("Content-Type", asset.content_type),
            ("X-Content-Type-Options", "nosniff"),
            *asset.extra_headers,
        ]
        if request.method == "HEAD":
            headers.append(("Content-Length", str(len(asset.body))))
            return HttpResponse(200, headers)
        return HttpResponse(200, headers, asset.body)

    # -- what is served ---------------------------------------------------------------

    def _document(self, version: str) -> Asset:
        document = self._describe(version)
        cached = self._documents.get(version)
        if cached is not None and cached[0] is document:
            return cached[1]
        served = document
        if version == "3.1":
            assert self._openapi_path is not None
            # After info, where a reader looks for it; relative, so it names this gateway.
            served = {k: v for k, v in document.items() if k in ("openapi", "info")}
            served["servers"] = [
                {"url": server_url(self._openapi_path), "description": "this gateway"}
            ]
            served.update(document)
        body = json.dumps(served, ensure_ascii=False, separators=(",", ":")).encode()
        asset = Asset(body, JSON_CONTENT_TYPE)
        self._documents[version] = (document, asset)
        return asset

    def _swagger_ui(self) -> Any:
        if self._ui is None:
            from grpcgw.explorer import ExplorerUnavailable, find_swagger_ui

            try:
                self._ui = find_swagger_ui()
            except ExplorerUnavailable as exc:
                raise GatewayError(Code.UNIMPLEMENTED, str(exc)) from None
        return self._ui

    def _page(self, *, slash: bool) -> Asset:
        from grpcgw.explorer import FILES, page

        ui = self._swagger_ui()
        # Swagger UI 4 (an older swagger-ui-bundle) renders Swagger 2.0, not 3.1.
        use_31 = self._openapi_path is not None and (
            ui.renders_openapi_31 or self._swagger_path is None
        )
        document_path = self._openapi_path if use_31 else self._swagger_path
        assert document_path is not None
        assert self._docs_path is not None
        document = self._describe("3.1" if use_31 else "2.0")
        cached = self._pages.get(slash)
        if cached is not None and cached[0] is document:
            return cached[1]
        page_dir = self._docs_path + "/" if slash else posixpath.dirname(self._docs_path)
        files_url = relative_url(page_dir, self._docs_path + "/x")[:-1]
        title = str(document.get("info", {}).get("title") or "API")
        body = page(
            title=f"{title} - API explorer",
            document_url=relative_url(page_dir, document_path),
            files_url=files_url or "./",
            versions={name: self._file(name).tag[:12] for name in FILES},
        )
        asset = Asset(body, _HTML, extra_headers=(("Content-Security-Policy", _PAGE_POLICY),))
        self._pages[slash] = (document, asset)
        return asset

    def _file(self, name: str) -> Asset:
        found = self._files.get(name)
        if found is None:
            from grpcgw.explorer import FILES

            found = self._files[name] = Asset(
                self._swagger_ui().read(name), FILES[name], cache_control=_FOREVER
            )
        return found
