"""Lambda HTTP events <-> gateway requests and responses, one class per event source.

Each source is detected explicitly from the event's shape, and answered with
exactly the response shape that source requires. Pure: no grpc, no aiohttp.

- API Gateway REST, and HTTP API with payload 1.0: ``httpMethod`` and a
  ``requestContext`` without ``elb``; answered with ``multiValueHeaders``.
- HTTP API payload 2.0 and function URLs: ``version: "2.0"``, ``rawPath`` and
  ``requestContext.http``; answered with comma-joined ``headers`` and ``cookies``.
- ALB target groups: ``requestContext.elb``; answered with ``headers`` or
  ``multiValueHeaders`` (whichever the event used) and ``statusDescription``.
- VPC Lattice v1 (``raw_path`` + ``method``) and v2 (``version: "2.0"``, ``path``,
  ``method``): answered with ``headers`` and ``statusDescription``.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, NamedTuple, TypeGuard
from urllib.parse import quote

from grpcgw.gateway import HttpRequest, HttpResponse
from grpcgw.metadata import APIGW_REQUEST_ID_KEY, AUTHORIZER_KEY, EVENT_SOURCE_KEY

# Characters that may stand unescaped in a request path; anything else in a
# path an event source handed over decoded is escaped again before routing.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = "-._~!$'()*,;:@/?"

_TEXT_TYPES = (
    "text/*",
    "application/json",
    "application/*+json",
    "application/xml",
    "application/*+xml",
    "application/javascript",
    "application/x-www-form-urlencoded",
    "application/x-ndjson",
)


@functools.lru_cache(maxsize=256)
def _is_binary(content_type: str, binary_media_types: tuple[str, ...]) -> bool:
    """Whether a reply of this Content-Type goes out base64-encoded (cached: a
    function serves few content types, and fnmatch over every pattern is slow)."""
    media_type = content_type.split(";")[0].strip().lower()
    if any(fnmatch.fnmatch(media_type, p) for p in binary_media_types):
        return True
    return not any(fnmatch.fnmatch(media_type, p) for p in _TEXT_TYPES)


class EventSourceError(ValueError):
    """An event that is not an HTTP event of a source grpcgw knows, or is malformed."""


class EventOptions(NamedTuple):
    """How events are read and answered (see ``LambdaOptions``)."""

    strip_stage: bool = True
    base_path: str = ""
    binary_media_types: tuple[str, ...] = ()


def _is_mapping(value: object) -> TypeGuard[Mapping[Any, Any]]:
    # Events arrive as dicts: isinstance(x, dict) is a C check, the ABC's is not.
    return isinstance(value, dict) or (value is not None and isinstance(value, Mapping))


def _decode_body(body: object, is_base64: object) -> bytes:
    if body is None:
        return b""
    if not isinstance(body, str):
        raise EventSourceError("event body is not a string")
    if is_base64:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise EventSourceError("event body is marked base64 but is not base64") from None
    return body.encode()


_PLAIN_PATH = re.compile(r"[A-Za-z0-9/%:@!$&'()*+,;=\-._~]*")


def _raw_path(path: str, base_path: str) -> str:
    # Most paths need no escaping; quote() is the slow part of reading an event.
    if not _PLAIN_PATH.fullmatch(path):
        path = quote(path, safe=_PATH_SAFE)
    path = path or "/"
    if base_path:
        base = "/" + base_path.strip("/")
        if path == base or path.startswith(base + "/"):
            path = path[len(base) :] or "/"
    return path


def _encode_query(pairs: Iterable[tuple[str, str]]) -> str:
    return "&".join(f"{quote(k, safe=_QUERY_SAFE)}={quote(v, safe=_QUERY_SAFE)}" for k, v in pairs)


def _pairs(multi: object, single: object) -> list[tuple[str, str]]:
    """Pairs (query parameters or headers) from a multi-value mapping if present, else
    from a single-value one (whose values may also be lists, as in VPC Lattice v2)."""
    if _is_mapping(multi) and multi:
        return [(str(k), str(v)) for k, vs in multi.items() for v in (vs or ())]
    if _is_mapping(single):
        out: list[tuple[str, str]] = []
        for k, v in single.items():
            if type(v) is str and type(k) is str:  # nearly always: no copies
                out.append((k, v))
            elif isinstance(v, list):
                out.extend((str(k), str(x)) for x in v)
            else:
                out.append((str(k), str(v)))
        return out
    return []


def _remote(source_ip: object, headers: Sequence[tuple[str, str]]) -> str | None:
    """The caller's IP, unless X-Forwarded-For already ends with it (API Gateway adds it)."""
    if not isinstance(source_ip, str) or not source_ip:
        return None
    ip = source_ip.split("/")[0]
    # The last header: repeated ones are joined in order (grpcgw.metadata).
    last = ""
    for name, value in headers:
        if name.lower() == "x-forwarded-for":
            last = value
    if last and last.rsplit(",", 1)[-1].strip() == ip:
        return None
    return ip


def _context_metadata(
    source: str, request_context: Mapping[str, Any], extra: Sequence[tuple[str, str]]
) -> list[tuple[str, str]]:
    md = [(EVENT_SOURCE_KEY, source)]
    request_id = request_context.get("requestId")
    if isinstance(request_id, str):
        md.append((APIGW_REQUEST_ID_KEY, request_id))
    authorizer = request_context.get("authorizer")
    if _is_mapping(authorizer) and authorizer:
        md.append((AUTHORIZER_KEY, json.dumps(authorizer, separators=(",", ":"), sort_keys=True)))
    md.extend(extra)
    return md


def _join(values: Sequence[str]) -> str:
    return ",".join(values)


def _grouped(headers: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in headers:
        out.setdefault(name, []).append(value)
    return out


class EventSource:
    """One kind of Lambda HTTP event: how to read it and how to answer it."""

    name: ClassVar[str]

    def __init__(self, event: Mapping[str, Any], options: EventOptions) -> None:
        self.event = event
        self.options = options

    @classmethod
    def matches(cls, event: Mapping[str, Any]) -> bool:
        raise NotImplementedError

    def request(
        self, extra_metadata: Sequence[tuple[str, str]] = (), deadline: float | None = None
    ) -> HttpRequest:
        """The gateway request for this event, with the invocation's own metadata and
        deadline (built once: this runs on every invocation)."""
        raise NotImplementedError

    def response(self, response: HttpResponse) -> dict[str, Any]:
        """The response dict this event source expects."""
        raise NotImplementedError

    def _body(self, response: HttpResponse) -> tuple[str, bool]:
        content_type = response.header("Content-Type") or ""
        if response.body and _is_binary(content_type, self.options.binary_media_types):
            return base64.b64encode(response.body).decode(), True
        try:
            return response.body.decode(), False
        except UnicodeDecodeError:  # labelled text, but not UTF-8: still deliver it intact
            return base64.b64encode(response.body).decode(), True

    def _context(self) -> Mapping[str, Any]:
        rc = self.event.get("requestContext")
        return rc if _is_mapping(rc) else {}

    def _strip_stage(self, path: str, rc: Mapping[str, Any]) -> str:
        """``path`` without a named HTTP API stage: on the execute-api endpoint it is
        the path's first segment (REST APIs leave it out of ``path``)."""
        stage = rc.get("stage")
        if (
            self.options.strip_stage
            and isinstance(stage, str)
            and stage not in ("", "$default")
            and ".execute-api." in str(rc.get("domainName") or "")
            and (path == f"/{stage}" or path.startswith(f"/{stage}/"))
        ):
            return path[len(stage) + 1 :] or "/"
        return path

    def _method(self, key: str) -> str:
        method = self.event.get(key)
        if not isinstance(method, str) or not method:
            raise EventSourceError(f"{self.name} event has no {key}")
        return method.upper()


class RestV1(EventSource):
    """API Gateway REST API (and HTTP API with payload format 1.0)."""

    name = "apigw-rest-v1"

    @classmethod
    def matches(cls, event: Mapping[str, Any]) -> bool:
        rc = event.get("requestContext")
        return (
            "httpMethod" in event
            and _is_mapping(rc)
            and "elb" not in rc
            and event.get("version", "1.0") == "1.0"
        )

    def request(
        self, extra_metadata: Sequence[tuple[str, str]] = (), deadline: float | None = None
    ) -> HttpRequest:
        ev = self.event
        headers = _pairs(ev.get("multiValueHeaders"), ev.get("headers"))
        rc = self._context()
        identity = rc.get("identity")
        source_ip = identity.get("sourceIp") if _is_mapping(identity) else None
        # REST passes `path` without the stage (custom domains keep their base path);
        # an HTTP API's payload 1.0, the only one with a "version", has it as v2 has.
        path = str(ev.get("path") or "/")
        if "version" in ev:
            path = self._strip_stage(path, rc)
        return HttpRequest(
            method=self._method("httpMethod"),
            path=_raw_path(path, self.options.base_path),
            query=_encode_query(
                _pairs(ev.get("multiValueQueryStringParameters"), ev.get("queryStringParameters"))
            ),
            headers=headers,
            body=_decode_body(ev.get("body"), ev.get("isBase64Encoded")),
            remote_addr=_remote(source_ip, headers),
            metadata=_context_metadata(self.name, rc, extra_metadata),
            deadline=deadline,
        )

    def response(self, response: HttpResponse) -> dict[str, Any]:
        body, b64 = self._body(response)
        return {
            "statusCode": response.status,
            "multiValueHeaders": _grouped(response.headers),
            "body": body,
            "isBase64Encoded": b64,
        }


class HttpV2(EventSource):
    """API Gateway HTTP API payload 2.0, and Lambda function URLs (same format)."""

    name = "apigw-http-v2"

    @classmethod
    def matches(cls, event: Mapping[str, Any]) -> bool:
        rc = event.get("requestContext")
        return (
            event.get("version") == "2.0"
            and "rawPath" in event
            and _is_mapping(rc)
            and _is_mapping(rc.get("http"))
        )

    def request(
        self, extra_metadata: Sequence[tuple[str, str]] = (), deadline: float | None = None
    ) -> HttpRequest:
        ev = self.event
        rc = self._context()
        http_ctx = rc.get("http") or {}
        headers = _pairs(None, ev.get("headers"))
        cookies = ev.get("cookies")
        if isinstance(cookies, list) and cookies:
            headers.append(("cookie", "; ".join(str(c) for c in cookies)))
        domain = str(rc.get("domainName") or "")
        path = self._strip_stage(str(ev.get("rawPath") or "/"), rc)
        query = ev.get("rawQueryString")
        return HttpRequest(
            method=self._method_v2(http_ctx),
            path=_raw_path(path, self.options.base_path),
            query=query
            if isinstance(query, str)
            else _encode_query(_pairs(None, ev.get("queryStringParameters"))),
            headers=headers,
            body=_decode_body(ev.get("body"), ev.get("isBase64Encoded")),
            remote_addr=_remote(http_ctx.get("sourceIp"), headers),
            metadata=_context_metadata(self._source_name(domain), rc, extra_metadata),
            deadline=deadline,
        )

    def _method_v2(self, http_ctx: Mapping[str, Any]) -> str:
        method = http_ctx.get("method")
        if not isinstance(method, str) or not method:
            raise EventSourceError(f"{self.name} event has no requestContext.http.method")
        return method.upper()

    def _source_name(self, domain: str) -> str:
        return "lambda-function-url" if ".lambda-url." in domain else self.name

    def response(self, response: HttpResponse) -> dict[str, Any]:
        body, b64 = self._body(response)
        headers: dict[str, str] = {}
        cookies: list[str] = []
        for name, value in response.headers:
            if name.lower() == "set-cookie":
                cookies.append(value)
            elif name in headers:
                headers[name] = f"{headers[name]},{value}"
            else:
                headers[name] = value
        return {
            "statusCode": response.status,
            "headers": headers,
            "cookies": cookies,
            "body": body,
            "isBase64Encoded": b64,
        }


def _status_description(status: int) -> str:
    import http  # here: only ALB needs it, and its enums cost cold-start time

    try:
        return f"{status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


class Alb(EventSource):
    """Application Load Balancer target group, with or without multi-value headers."""

    name = "alb"

    @classmethod
    def matches(cls, event: Mapping[str, Any]) -> bool:
        rc = event.get("requestContext")
        return _is_mapping(rc) and "elb" in rc and "httpMethod" in event

    @property
    def multi_value(self) -> bool:
        return "multiValueHeaders" in self.event

    def request(
        self, extra_metadata: Sequence[tuple[str, str]] = (), deadline: float | None = None
    ) -> HttpRequest:
        ev = self.event
        headers = _pairs(ev.get("multiValueHeaders"), ev.get("headers"))
        # ALB hands query keys and values over exactly as the client sent them,
        # still percent-encoded: join them as they are, so they are decoded once.
        pairs = _pairs(ev.get("multiValueQueryStringParameters"), ev.get("queryStringParameters"))
        return HttpRequest(
            method=self._method("httpMethod"),
            path=_raw_path(str(ev.get("path") or "/"), self.options.base_path),
            query="&".join(f"{k}={v}" for k, v in pairs),
            headers=headers,
            body=_decode_body(ev.get("body"), ev.get("isBase64Encoded")),
            metadata=_context_metadata(self.name, {}, extra_metadata),
            deadline=deadline,
        )

    def response(self, response: HttpResponse) -> dict[str, Any]:
        body, b64 = self._body(response)
        out: dict[str, Any] = {
            "statusCode": response.status,
            "statusDescription": _status_description(response.status),
        }
        grouped = _grouped(response.headers)
        if self.multi_value:
            out["multiValueHeaders"] = grouped
        else:
            out["headers"] = _single_value_headers(grouped)
        out["body"] = body
        out["isBase64Encoded"] = b64
        return out


def _single_value_headers(grouped: Mapping[str, list[str]]) -> dict[str, str]:
    """One value per name. Several ``Set-Cookie`` cannot be joined with commas, so
    each goes under a differently-cased name (header names are case-insensitive)."""
    out: dict[str, str] = {}
    for name, values in grouped.items():
        if name.lower() == "set-cookie" and len(values) > 1:
            for i, value in enumerate(values):
                out[_case_variant(name, i)] = value
        else:
            out[name] = _join(values)
    return out


def _case_variant(name: str, n: int) -> str:
    letters = [i for i, c in enumerate(name) if c.isalpha()]
    chars = list(name.lower())
    for bit, pos in enumerate(letters):
        if n >> bit & 1:
            chars[pos] = chars[pos].upper()
    return "".join(chars)


class LatticeV1(EventSource):
    """VPC Lattice, event structure version 1 (snake_case keys)."""

    name = "vpc-lattice-v1"

    @classmethod
    def matches(cls, event: Mapping[str, Any]) -> bool:
        return "raw_path" in event and "method" in event

    def request(
        self, extra_metadata: Sequence[tuple[str, str]] = (), deadline: float | None = None
    ) -> HttpRequest:
        ev = self.event
        raw_path, _, raw_query = str(ev.get("raw_path") or "/").partition("?")
        headers = _pairs(None, ev.get("headers"))
        return HttpRequest(
            method=self._method("method"),
            path=_raw_path(raw_path, self.options.base_path),
            query=raw_query or _encode_query(_pairs(None, ev.get("query_string_parameters"))),
            headers=headers,
            body=_decode_body(ev.get("body"), ev.get("is_base64_encoded")),
            metadata=_context_metadata(self.name, {}, extra_metadata),
            deadline=deadline,
        )

    def response(self, response: HttpResponse) -> dict[str, Any]:
        body, b64 = self._body(response)
        return {
            "statusCode": response.status,
            "statusDescription": _status_description(response.status),
            "headers": _single_value_headers(_grouped(response.headers)),
            "body": body,
            "isBase64Encoded": b64,
        }


class LatticeV2(LatticeV1):
    """VPC Lattice, event structure version 2."""

    name = "vpc-lattice-v2"

    @classmethod
    def matches(cls, event: Mapping[str, Any]) -> bool:
        rc = event.get("requestContext")
        return (
            event.get("version") == "2.0"
            and "path" in event
            and "method" in event
            and _is_mapping(rc)
            and "serviceNetworkArn" in rc
        )

    def request(
        self, extra_metadata: Sequence[tuple[str, str]] = (), deadline: float | None = None
    ) -> HttpRequest:
        ev = self.event
        raw_path, _, raw_query = str(ev.get("path") or "/").partition("?")
        # Lattice names the caller by VPC and principal, not IP: nothing for x-forwarded-for.
        headers = _pairs(None, ev.get("headers"))
        return HttpRequest(
            method=self._method("method"),
            path=_raw_path(raw_path, self.options.base_path),
            query=raw_query or _encode_query(_pairs(None, ev.get("queryStringParameters"))),
            headers=headers,
            body=_decode_body(ev.get("body"), ev.get("isBase64Encoded")),
            metadata=_context_metadata(self.name, {}, extra_metadata),
            deadline=deadline,
        )


#: In detection order: the more specific shapes first.
SOURCES: tuple[type[EventSource], ...] = (HttpV2, LatticeV2, Alb, RestV1, LatticeV1)


def detect(event: object, options: EventOptions) -> EventSource:
    """The event source for ``event``; :class:`EventSourceError` if it is none of them."""
    if not _is_mapping(event):
        raise EventSourceError(f"a Lambda HTTP event is a JSON object, not {type(event).__name__}")
    for source in SOURCES:
        if source.matches(event):
            return source(event, options)
    keys = ", ".join(sorted(map(str, event))[:8]) or "none"
    raise EventSourceError(
        "not an HTTP event from API Gateway (REST or HTTP API), a function URL, ALB or "
        f"VPC Lattice (top-level keys: {keys})"
    )
