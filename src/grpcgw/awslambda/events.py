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

An event of a known source whose fields have the wrong type or value (a header
that is a number, a lone surrogate in the path, ``isBase64Encoded: "false"``)
raises :class:`InvalidEventError`, which the handler answers ``400`` in that
source's shape; only an event that is no HTTP event at all raises
:class:`EventSourceError`. The common case is checked with cheap type tests;
the careful (slower) handling runs only when one fails.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import functools
import json
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, NamedTuple, TypeGuard
from urllib.parse import quote

from grpcgw.exchange import HttpRequest, HttpResponse, safe_headers
from grpcgw.metadata import APIGW_REQUEST_ID_KEY, AUTHORIZER_KEY, EVENT_SOURCE_KEY

log = logging.getLogger("grpcgw")

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
    if media_type in _EXACT_TEXT_TYPES:  # JSON mostly: no pattern to build at a cold start
        return False
    return not any(fnmatch.fnmatch(media_type, p) for p in _TEXT_TYPES)


_EXACT_TEXT_TYPES = frozenset(t for t in _TEXT_TYPES if "*" not in t)


class EventSourceError(ValueError):
    """An event that is not an HTTP event of a source grpcgw knows."""


class InvalidEventError(ValueError):
    """An HTTP event of a known source with a field of the wrong type or value: the
    handler answers it ``400 INVALID_ARGUMENT`` in the source's own response shape."""


def _json_type(value: object) -> str:
    """What a value is, in JSON's words (the event arrived as JSON)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "an array"
    if _is_mapping(value):
        return "an object"
    return type(value).__name__


def _field(where: str, key: object) -> str:
    shown = repr(key)
    return f"{where}[{shown if len(shown) <= 64 else shown[:61] + '...'}]"


def _wrong_type(where: str, value: object, expected: str) -> InvalidEventError:
    return InvalidEventError(f"event field {where} is {_json_type(value)}, not {expected}")


def _not_unicode(where: str) -> InvalidEventError:
    return InvalidEventError(f"event field {where} is not valid Unicode (a lone surrogate)")


class EventOptions(NamedTuple):
    """How events are read and answered (see ``LambdaOptions``)."""

    strip_stage: bool = True
    base_path: str = ""
    binary_media_types: tuple[str, ...] = ()


def _is_mapping(value: object) -> TypeGuard[Mapping[Any, Any]]:
    # Events arrive as dicts: isinstance(x, dict) is a C check, the ABC's is not.
    return isinstance(value, dict) or (value is not None and isinstance(value, Mapping))


def _decode_body(body: object, is_base64: object, flag: str = "isBase64Encoded") -> bytes:
    # Only the boolean true means base64 (AWS sends booleans): the string "false" is
    # truthy, and guessing what a string or number means would be guessing.
    if is_base64 is not True and is_base64 is not False and is_base64 is not None:
        raise _wrong_type(flag, is_base64, "a boolean")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise _wrong_type("body", body, "a string")
    if is_base64:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidEventError(
                f"event body is marked base64 ({flag}) but is not valid base64"
            ) from None
    try:
        return body.encode()
    except UnicodeEncodeError:
        raise _not_unicode("body") from None


_PLAIN_PATH = re.compile(r"[A-Za-z0-9/%:@!$&'()*+,;=\-._~]*")


def _path_field(value: object, where: str) -> str:
    """The path an event gives (``None`` or empty: ``/``)."""
    if type(value) is str:
        return value or "/"
    if value is None:
        return "/"
    if isinstance(value, str):
        return str(value) or "/"
    raise _wrong_type(where, value, "a string")


def _raw_path(path: str, base_path: str, where: str = "path") -> str:
    # Most paths need no escaping; quote() is the slow part of reading an event.
    if not _PLAIN_PATH.fullmatch(path):
        try:
            path = quote(path, safe=_PATH_SAFE)
        except UnicodeEncodeError:
            raise _not_unicode(where) from None
    path = path or "/"
    if base_path:
        base = "/" + base_path.strip("/")
        if path == base or path.startswith(base + "/"):
            path = path[len(base) :] or "/"
    return path


def _encode_query(pairs: Iterable[tuple[str, str]], where: str = "query") -> str:
    try:
        return "&".join(
            f"{quote(k, safe=_QUERY_SAFE)}={quote(v, safe=_QUERY_SAFE)}" for k, v in pairs
        )
    except UnicodeEncodeError:
        raise _not_unicode(where) from None


#: Kept as they are in a raw query string: it is already percent-encoded.
_RAW_QUERY_SAFE = "".join(chr(c) for c in range(0x21, 0x7F))


def _raw_query(value: object, where: str) -> str:
    """A raw (still percent-encoded) query string; characters beyond ASCII are
    percent-encoded as UTF-8, as a browser would send them."""
    if type(value) is not str:
        if not isinstance(value, str):
            raise _wrong_type(where, value, "a string")
        value = str(value)
    if value.isascii():
        return value
    try:
        return quote(value, safe=_RAW_QUERY_SAFE)
    except UnicodeEncodeError:
        raise _not_unicode(where) from None


def _single_pairs(mapping: object, where: str) -> list[tuple[str, str]]:
    """Pairs (headers or query parameters) from a single-value map, whose values
    are strings (or, as in VPC Lattice v2, lists of strings)."""
    if mapping is None:
        return []
    if not _is_mapping(mapping):
        raise _wrong_type(where, mapping, "an object")
    out: list[tuple[str, str]] = []
    for k, v in mapping.items():
        if type(v) is str and type(k) is str:  # nearly always: no copies
            out.append((k, v))
        elif type(v) is list and type(k) is str and all(type(x) is str for x in v):
            out.extend((k, x) for x in v)
        else:
            out.extend(_careful_pairs(where, k, v, single=True))
    return out


def _multi_pairs(mapping: object, where: str) -> list[tuple[str, str]]:
    """Pairs from a multi-value map, whose values are lists of strings."""
    if not _is_mapping(mapping):
        raise _wrong_type(where, mapping, "an object")
    out: list[tuple[str, str]] = []
    append = out.append
    for k, vs in mapping.items():
        if type(vs) is list and type(k) is str:  # nearly always
            for v in vs:
                if type(v) is not str:
                    if not isinstance(v, str):
                        raise _wrong_type(_field(where, k) + "[]", v, "a string")
                    v = str(v)
                append((k, v))
        else:
            out.extend(_careful_pairs(where, k, vs, single=False))
    return out


def _careful_pairs(
    where: str, key: object, value: object, *, single: bool
) -> list[tuple[str, str]]:
    """One entry of a header or query map that failed the cheap checks: accept
    ``str`` subclasses and tuples, refuse every other type with a 400."""
    if not isinstance(key, str):
        raise InvalidEventError(f"event field {where} has a key that is {_json_type(key)}")
    if single and isinstance(value, str):
        return [(str(key), str(value))]
    if isinstance(value, list | tuple):
        for v in value:
            if not isinstance(v, str):
                raise _wrong_type(_field(where, key) + "[]", v, "a string")
        return [(str(key), str(v)) for v in value]
    raise _wrong_type(_field(where, key), value, "a string" if single else "an array of strings")


def _pairs(
    multi: object, single: object, multi_name: str, single_name: str
) -> list[tuple[str, str]]:
    """Pairs from a multi-value map if present and not empty, else from a single-value one
    (only the map read is checked: API Gateway sends both, with the same contents)."""
    if multi is not None and not (_is_mapping(multi) and not multi):
        return _multi_pairs(multi, multi_name)
    return _single_pairs(single, single_name)


def _cookies(value: object) -> str | None:
    """Payload 2.0 ``cookies`` as one ``Cookie`` header value."""
    if value is None:
        return None
    if type(value) is list and all(type(c) is str for c in value):
        return "; ".join(value) if value else None
    if not isinstance(value, list | tuple):
        raise _wrong_type("cookies", value, "an array of strings")
    for c in value:
        if not isinstance(c, str):
            raise _wrong_type("cookies[]", c, "a string")
    return "; ".join(map(str, value)) if value else None


#: An IPv4 or IPv6 address as API Gateway writes it (anything else is not forwarded).
_IP = re.compile(r"[0-9A-Fa-f.:]{2,45}")


def _printable_ascii(value: object) -> TypeGuard[str]:
    """Whether ``value`` can be sent as gRPC metadata: printable ASCII, 0x20-0x7E."""
    return type(value) is str and value.isascii() and value.isprintable()


def _remote(source_ip: object, headers: Sequence[tuple[str, str]]) -> str | None:
    """The caller's IP, unless X-Forwarded-For already ends with it (API Gateway adds it)."""
    if type(source_ip) is not str or not source_ip:
        return None
    ip = source_ip.split("/")[0]
    if not _IP.fullmatch(ip):
        return None  # not an address: never forwarded (gRPC metadata could not carry it)
    # The last header: repeated ones are joined in order (grpcgw.metadata), so the
    # search runs from the end and stops at the first it finds.
    last = ""
    for name, value in reversed(headers):
        # The length first: lower() on every header name is most of this loop's cost.
        if len(name) == 15 and name.lower() == "x-forwarded-for":
            last = value
            break
    if last and last.rsplit(",", 1)[-1].strip() == ip:
        return None
    return ip


def _context_metadata(
    source: str, request_context: Mapping[str, Any], extra: Sequence[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The request context as metadata. A value gRPC metadata cannot carry (not
    printable ASCII, not JSON) is left out rather than failing the call."""
    md = [(EVENT_SOURCE_KEY, source)]
    request_id = request_context.get("requestId")
    if _printable_ascii(request_id) and request_id:
        md.append((APIGW_REQUEST_ID_KEY, request_id))
    authorizer = request_context.get("authorizer")
    if _is_mapping(authorizer) and authorizer:
        try:
            # ASCII-only JSON: control characters and non-ASCII text are escaped.
            claims = json.dumps(authorizer, separators=(",", ":"), sort_keys=True)
        except (TypeError, ValueError, RecursionError):
            pass  # not JSON (a handler called with Python objects): left out
        else:
            md.append((AUTHORIZER_KEY, claims))
    md.extend(extra)
    return md


def _join(values: Sequence[str]) -> str:
    return ",".join(values)


def _grouped(headers: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in headers:
        out.setdefault(name, []).append(value)
    return out


_METHODS = frozenset(("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"))
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def _method(value: object, where: str) -> str:
    if type(value) is str and value in _METHODS:  # nearly always
        return value
    if not isinstance(value, str):
        raise _wrong_type(where, value, "a string")
    if not _TOKEN.fullmatch(value):
        raise InvalidEventError(f"event field {where} is not an HTTP method")
    return value.upper()


class EventSource:
    """One kind of Lambda HTTP event: how to read it and how to answer it."""

    name: ClassVar[str]
    #: The largest response this source takes, in bytes of the JSON document the
    #: runtime posts: Lambda's 6 MB for a synchronous invocation (6,291,556 bytes, as
    #: its ``Function.ResponseSizeTooLarge`` error says).
    max_response: ClassVar[int] = 6_291_556

    def __init__(self, event: Mapping[str, Any], options: EventOptions) -> None:
        self.event = event
        self.options = options

    @classmethod
    def matches(cls, event: Mapping[str, Any]) -> bool:
        raise NotImplementedError

    def request(
        self,
        extra_metadata: Sequence[tuple[str, str]] = (),
        deadline: float | None = None,
        request_id: str | None = None,
    ) -> HttpRequest:
        """The gateway request for this event, with the invocation's own metadata,
        deadline and request id (built once: this runs on every invocation)."""
        raise NotImplementedError

    def response(self, response: HttpResponse) -> dict[str, Any]:
        """The response dict this event source expects."""
        raise NotImplementedError

    def _headers(self, response: HttpResponse) -> Sequence[tuple[str, str]]:
        return safe_headers(response.headers)

    def _body(self, response: HttpResponse) -> tuple[str, bool]:
        # response.header("Content-Type"), written out: the gateway puts it first.
        content_type = ""
        for name, value in response.headers:
            if name.lower() == "content-type":
                content_type = value
                break
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
        return _method(self.event.get(key), key)


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
        self,
        extra_metadata: Sequence[tuple[str, str]] = (),
        deadline: float | None = None,
        request_id: str | None = None,
    ) -> HttpRequest:
        ev = self.event
        headers = _pairs(
            ev.get("multiValueHeaders"), ev.get("headers"), "multiValueHeaders", "headers"
        )
        rc = self._context()
        identity = rc.get("identity")
        source_ip = identity.get("sourceIp") if _is_mapping(identity) else None
        # REST passes `path` without the stage (custom domains keep their base path);
        # an HTTP API's payload 1.0, the only one with a "version", has it as v2 has.
        path = _path_field(ev.get("path"), "path")
        if "version" in ev:
            path = self._strip_stage(path, rc)
        return HttpRequest(
            method=self._method("httpMethod"),
            path=_raw_path(path, self.options.base_path),
            query=_encode_query(
                _pairs(
                    ev.get("multiValueQueryStringParameters"),
                    ev.get("queryStringParameters"),
                    "multiValueQueryStringParameters",
                    "queryStringParameters",
                )
            ),
            headers=headers,
            body=_decode_body(ev.get("body"), ev.get("isBase64Encoded")),
            remote_addr=_remote(source_ip, headers),
            metadata=_context_metadata(self.name, rc, extra_metadata),
            deadline=deadline,
            request_id=request_id,
        )

    def response(self, response: HttpResponse) -> dict[str, Any]:
        body, b64 = self._body(response)
        return {
            "statusCode": response.status,
            "multiValueHeaders": _grouped(self._headers(response)),
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
        self,
        extra_metadata: Sequence[tuple[str, str]] = (),
        deadline: float | None = None,
        request_id: str | None = None,
    ) -> HttpRequest:
        ev = self.event
        rc = self._context()
        http_ctx = rc.get("http") or {}
        headers = _single_pairs(ev.get("headers"), "headers")
        cookie = _cookies(ev.get("cookies"))
        if cookie is not None:
            headers.append(("cookie", cookie))
        domain = str(rc.get("domainName") or "")
        path = self._strip_stage(_path_field(ev.get("rawPath"), "rawPath"), rc)
        query = ev.get("rawQueryString")
        return HttpRequest(
            method=_method(http_ctx.get("method"), "requestContext.http.method"),
            path=_raw_path(path, self.options.base_path, "rawPath"),
            query=_raw_query(query, "rawQueryString")
            if query is not None
            else _encode_query(
                _single_pairs(ev.get("queryStringParameters"), "queryStringParameters")
            ),
            headers=headers,
            body=_decode_body(ev.get("body"), ev.get("isBase64Encoded")),
            remote_addr=_remote(http_ctx.get("sourceIp"), headers),
            metadata=_context_metadata(self._source_name(domain), rc, extra_metadata),
            deadline=deadline,
            request_id=request_id,
        )

    def _source_name(self, domain: str) -> str:
        return "lambda-function-url" if ".lambda-url." in domain else self.name

    def response(self, response: HttpResponse) -> dict[str, Any]:
        body, b64 = self._body(response)
        headers: dict[str, str] = {}
        cookies: list[str] = []
        for name, value in self._headers(response):
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
    #: An ALB takes at most 1 MB of response JSON from a Lambda target.
    max_response = 1_048_576

    @classmethod
    def matches(cls, event: Mapping[str, Any]) -> bool:
        rc = event.get("requestContext")
        return _is_mapping(rc) and "elb" in rc and "httpMethod" in event

    @property
    def multi_value(self) -> bool:
        return "multiValueHeaders" in self.event

    def request(
        self,
        extra_metadata: Sequence[tuple[str, str]] = (),
        deadline: float | None = None,
        request_id: str | None = None,
    ) -> HttpRequest:
        ev = self.event
        headers = _pairs(
            ev.get("multiValueHeaders"), ev.get("headers"), "multiValueHeaders", "headers"
        )
        # ALB hands query keys and values over exactly as the client sent them,
        # still percent-encoded: join them as they are, so they are decoded once.
        pairs = _pairs(
            ev.get("multiValueQueryStringParameters"),
            ev.get("queryStringParameters"),
            "multiValueQueryStringParameters",
            "queryStringParameters",
        )
        return HttpRequest(
            method=self._method("httpMethod"),
            path=_raw_path(_path_field(ev.get("path"), "path"), self.options.base_path),
            query=_raw_query("&".join(f"{k}={v}" for k, v in pairs), "queryStringParameters"),
            headers=headers,
            body=_decode_body(ev.get("body"), ev.get("isBase64Encoded")),
            metadata=_context_metadata(self.name, {}, extra_metadata),
            deadline=deadline,
            request_id=request_id,
        )

    def response(self, response: HttpResponse) -> dict[str, Any]:
        body, b64 = self._body(response)
        out: dict[str, Any] = {
            "statusCode": response.status,
            "statusDescription": _status_description(response.status),
        }
        grouped = _grouped(self._headers(response))
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
        self,
        extra_metadata: Sequence[tuple[str, str]] = (),
        deadline: float | None = None,
        request_id: str | None = None,
    ) -> HttpRequest:
        ev = self.event
        raw_path, _, raw_query = _path_field(ev.get("raw_path"), "raw_path").partition("?")
        headers = _single_pairs(ev.get("headers"), "headers")
        return HttpRequest(
            method=self._method("method"),
            path=_raw_path(raw_path, self.options.base_path, "raw_path"),
            query=_raw_query(raw_query, "raw_path")
            if raw_query
            else _encode_query(
                _single_pairs(ev.get("query_string_parameters"), "query_string_parameters")
            ),
            headers=headers,
            body=_decode_body(ev.get("body"), ev.get("is_base64_encoded"), "is_base64_encoded"),
            metadata=_context_metadata(self.name, {}, extra_metadata),
            deadline=deadline,
            request_id=request_id,
        )

    def response(self, response: HttpResponse) -> dict[str, Any]:
        body, b64 = self._body(response)
        return {
            "statusCode": response.status,
            "statusDescription": _status_description(response.status),
            "headers": _single_value_headers(_grouped(self._headers(response))),
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
        self,
        extra_metadata: Sequence[tuple[str, str]] = (),
        deadline: float | None = None,
        request_id: str | None = None,
    ) -> HttpRequest:
        ev = self.event
        raw_path, _, raw_query = _path_field(ev.get("path"), "path").partition("?")
        # Lattice names the caller by VPC and principal, not IP: nothing for x-forwarded-for.
        headers = _single_pairs(ev.get("headers"), "headers")
        return HttpRequest(
            method=self._method("method"),
            path=_raw_path(raw_path, self.options.base_path),
            query=_raw_query(raw_query, "path")
            if raw_query
            else _encode_query(
                _single_pairs(ev.get("queryStringParameters"), "queryStringParameters")
            ),
            headers=headers,
            body=_decode_body(ev.get("body"), ev.get("isBase64Encoded")),
            metadata=_context_metadata(self.name, {}, extra_metadata),
            deadline=deadline,
            request_id=request_id,
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
