"""Cross-origin resource sharing, as the Fetch standard defines it (pure, stdlib only).

:class:`CorsOptions` says which origins may call the gateway from a browser and
with what; :class:`CorsPolicy` is those options compiled, and answers the two
questions the gateway asks for every request: which headers go on a response
for this ``Origin`` (:meth:`CorsPolicy.response_headers`), and what a preflight
(``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``) gets
(:meth:`CorsPolicy.preflight`). The gateway core asks them, so that every front
end (aiohttp, Lambda, the proxy) answers alike.

Where the Fetch standard leaves room, the choices follow what browsers accept in
every credentials mode: a wildcard is never sent where credentials make it
invalid (the origin, the request headers and, with ``expose_headers=("*",)``,
the response's header names are sent by name instead).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from grpcgw.lazyre import lazy_compile
from grpcgw.records import Record, setfield

__all__ = ["CorsOptions", "CorsPolicy", "Preflight"]

#: Request headers a page may send without a preflight asking for them (Fetch's
#: CORS-safelisted request-header names); always allowed.
SAFELISTED_REQUEST_HEADERS = frozenset(
    ("accept", "accept-language", "content-language", "content-type")
)
#: Response headers a page can always read (Fetch's CORS-safelisted response-header
#: names); ``Set-Cookie`` can never be exposed. Left out of a computed expose list.
_NOT_EXPOSED = frozenset(
    (
        "cache-control", "content-language", "content-length", "content-type", "expires",
        "last-modified", "pragma", "set-cookie", "set-cookie2", "vary",
    )
)  # fmt: skip

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_DEFAULT_PORTS = {"http": "80", "https": "443"}
# scheme://host[:port], lowercased; the host a name, an IPv4 address or a bracketed IPv6 one.
_ORIGIN = lazy_compile(
    r"(?P<scheme>[a-z][a-z0-9+.-]*)://"
    r"(?P<host>\*\.[a-z0-9.-]+|[a-z0-9._~-]+|\[[0-9a-f:.]+\])"
    r"(?::(?P<port>[0-9]{1,5}))?"
)


def _strings(name: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)  # one origin given bare, not its characters
    if not isinstance(value, Iterable) or isinstance(value, bytes | bytearray):
        raise ValueError(f"CorsOptions.{name} must be a list of strings, not {value!r}")
    items = tuple(value)
    for item in items:
        if not isinstance(item, str):
            raise ValueError(f"CorsOptions.{name} must hold strings, not {item!r}")
    return items


def _origin_rule(text: str) -> str:
    """``text`` checked and normalised: ``*``, ``null``, or a lowercased origin
    without its scheme's default port (the form browsers send)."""
    if text in ("*", "null"):
        return text
    lowered = text.strip().lower()
    m = _ORIGIN.fullmatch(lowered)
    if m is None:
        hint = ""
        if "://" in lowered and "/" in lowered.partition("://")[2]:
            hint = " (an origin has no path, not even a trailing /)"
        raise ValueError(
            f"CorsOptions.allow_origins: {text!r} is not an origin: expected *, null, "
            f"scheme://host[:port] or scheme://*.domain[:port]{hint}"
        )
    scheme, host, port = m.group("scheme", "host", "port")
    if host.startswith("*.") and (".." in host or host.endswith(".") or host == "*."):
        raise ValueError(f"CorsOptions.allow_origins: {text!r} is not a valid origin pattern")
    if port is not None:
        if int(port) > 65535:
            raise ValueError(f"CorsOptions.allow_origins: {text!r} has no valid port")
        # Browsers never send a scheme's default port.
        port = None if _DEFAULT_PORTS.get(scheme) == str(int(port)) else str(int(port))
    return f"{scheme}://{host}" + (f":{port}" if port else "")


def _pattern(rule: str) -> re.Pattern[str]:
    """``https://*.example.com[:port]`` -> one or more subdomain labels, nothing else."""
    scheme, _, rest = rule.partition("://*.")
    return re.compile(
        re.escape(scheme) + r"://[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\." + re.escape(rest),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class CorsOptions:
    """Which origins may call the gateway from a browser, and with what.

    Given as ``GatewayOptions(cors=CorsOptions(...))``; every front end
    (``serve_local``, ``serve_lambda``, the proxy, :class:`~grpcgw.Gateway`)
    then answers preflights itself and adds the CORS headers to its responses.

    >>> CorsOptions(allow_origins=["https://app.example.com", "https://*.example.org"])
    ... # doctest: +ELLIPSIS
    CorsOptions(...)
    """

    #: ``"*"`` (any origin), exact origins (``"https://app.example.com"``,
    #: ``"http://localhost:5173"``), and patterns with one ``*`` for any
    #: subdomain (``"https://*.example.com"``, which does not match
    #: ``https://example.com`` itself). ``"null"`` (sandboxed pages, ``file:``)
    #: only when listed.
    allow_origins: Sequence[str]
    #: Methods a preflight may ask for; ``"*"``: any that a route of the path has.
    #: ``Access-Control-Allow-Methods`` lists the route methods of the path
    #: (with ``HEAD`` where there is ``GET``) that these allow.
    allow_methods: Sequence[str] = ("*",)
    #: Request headers a page may send (besides the CORS-safelisted ones);
    #: ``"*"``: any, answered by name (so ``Authorization`` and credentialed
    #: requests are covered, which Fetch's ``*`` does not cover).
    allow_headers: Sequence[str] = ("*",)
    #: Response headers a page may read besides the safelisted ones (e.g.
    #: ``"Grpc-Metadata-X-Total"``); ``"*"``: every header of the response
    #: (``*`` without credentials, the names themselves with credentials).
    expose_headers: Sequence[str] = ()
    #: Let pages send cookies and HTTP authentication and read the answer
    #: (``Access-Control-Allow-Credentials: true``); with ``"*"`` the caller's
    #: origin is echoed, as credentials require.
    allow_credentials: bool = False
    #: Seconds a browser may cache a preflight's answer (Chromium caps it at
    #: 7200, Firefox at 86400); ``None`` sends no ``Access-Control-Max-Age``
    #: (browsers then keep it 5 seconds).
    max_age: int | None = 600

    def __post_init__(self) -> None:
        origins = tuple(_origin_rule(o) for o in _strings("allow_origins", self.allow_origins))
        if not origins:
            raise ValueError("CorsOptions.allow_origins is empty: name the origins, or '*'")
        methods = _strings("allow_methods", self.allow_methods)
        for method in methods:
            if method != "*" and not _TOKEN.fullmatch(method):
                raise ValueError(f"CorsOptions.allow_methods: {method!r} is not a method name")
        for name in ("allow_headers", "expose_headers"):
            for header in _strings(name, getattr(self, name)):
                if header != "*" and not _TOKEN.fullmatch(header):
                    raise ValueError(f"CorsOptions.{name}: {header!r} is not a header name")
        if not isinstance(self.allow_credentials, bool):
            raise ValueError(
                f"CorsOptions.allow_credentials must be a bool, not {self.allow_credentials!r}"
            )
        max_age = self.max_age
        if max_age is not None and (
            isinstance(max_age, bool) or not isinstance(max_age, int) or max_age < 0
        ):
            raise ValueError(f"CorsOptions.max_age must be seconds (0 or more), not {max_age!r}")
        object.__setattr__(self, "allow_origins", tuple(dict.fromkeys(origins)))
        object.__setattr__(self, "allow_methods", tuple(m.upper() for m in methods))
        object.__setattr__(self, "allow_headers", _strings("allow_headers", self.allow_headers))
        object.__setattr__(self, "expose_headers", _strings("expose_headers", self.expose_headers))


class Preflight(Record):
    """A preflight's outcome: the headers of a ``204`` answer, or why it is refused."""

    __slots__ = ("headers", "refused")
    headers: list[tuple[str, str]]
    #: Why the preflight is refused (``None``: allowed); answered 403 without CORS headers.
    refused: str | None

    def __init__(self, headers: list[tuple[str, str]], refused: str | None = None) -> None:
        setfield(self, "headers", headers)
        setfield(self, "refused", refused)


class CorsPolicy:
    """:class:`CorsOptions` compiled: what to answer for an ``Origin``."""

    __slots__ = (
        "_any_origin",
        "_credentials",
        "_exact",
        "_expose",
        "_expose_all",
        "_headers",
        "_headers_any",
        "_max_age",
        "_methods",
        "_patterns",
        "vary",
    )

    def __init__(self, options: CorsOptions) -> None:
        origins = tuple(options.allow_origins)
        self._any_origin = "*" in origins
        self._exact = frozenset(o for o in origins if "*" not in o)
        self._patterns = tuple(_pattern(o) for o in origins if "://*." in o)
        self._credentials = options.allow_credentials
        methods = tuple(options.allow_methods)
        self._methods = None if "*" in methods else frozenset(methods)
        headers = tuple(h.lower() for h in options.allow_headers)
        self._headers_any = "*" in headers
        self._headers = SAFELISTED_REQUEST_HEADERS | frozenset(headers)
        expose = tuple(options.expose_headers)
        self._expose_all = "*" in expose
        self._expose = ", ".join(dict.fromkeys(expose)) if expose else None
        self._max_age = None if options.max_age is None else str(options.max_age)
        #: Whether responses depend on ``Origin`` (then every one carries ``Vary: Origin``):
        #: all but ``*`` without credentials, which answers every origin alike.
        self.vary = not (self._any_origin and not self._credentials)

    def allowed_origin(self, origin: str) -> str | None:
        """The ``Access-Control-Allow-Origin`` value for ``origin``, or ``None`` if not allowed."""
        if self._any_origin:
            if not self._credentials:
                return "*"
            # Credentials forbid "*": echo the origin, except the opaque "null"
            # (sandboxed pages, file:) unless it is listed.
            return origin if origin != "null" or "null" in self._exact else None
        if origin in self._exact:
            return origin
        lowered = origin.lower()
        if lowered in self._exact:
            return origin
        for pattern in self._patterns:
            if pattern.fullmatch(lowered):
                return origin
        return None

    def response_headers(
        self, origin: str | None, response_headers: Sequence[tuple[str, str]] = ()
    ) -> list[tuple[str, str]]:
        """The CORS headers of an actual (non-preflight) response to a request from
        ``origin`` (``None``: no ``Origin`` header); none but ``Vary`` for an origin
        that is not allowed."""
        out: list[tuple[str, str]] = [("Vary", "Origin")] if self.vary else []
        if origin is None:
            return out
        allowed = self.allowed_origin(origin)
        if allowed is None:
            return out
        out.append(("Access-Control-Allow-Origin", allowed))
        if self._credentials:
            out.append(("Access-Control-Allow-Credentials", "true"))
        if self._expose_all:
            if not self._credentials:
                out.append(("Access-Control-Expose-Headers", "*"))
            else:  # "*" means nothing with credentials: name the response's headers
                names = dict.fromkeys(
                    k for k, _ in response_headers if k.lower() not in _NOT_EXPOSED
                )
                if names:
                    out.append(("Access-Control-Expose-Headers", ", ".join(names)))
        elif self._expose is not None:
            out.append(("Access-Control-Expose-Headers", self._expose))
        return out

    def preflight(
        self,
        origin: str,
        method: str,
        request_headers: str | None,
        route_methods: Iterable[str],
    ) -> Preflight:
        """The answer to a preflight from ``origin`` asking for ``method`` and
        ``request_headers`` (the ``Access-Control-Request-Headers`` value) on a
        path whose routes have ``route_methods``."""
        vary = [
            ("Vary", "Origin"),
            ("Vary", "Access-Control-Request-Method"),
            ("Vary", "Access-Control-Request-Headers"),
        ]
        allowed_origin = self.allowed_origin(origin)
        if allowed_origin is None:
            return Preflight(vary, f"origin {origin!r} is not allowed")
        methods = [m for m in route_methods if self._methods is None or m in self._methods]
        method = method.strip()
        if method not in methods:
            listed = ", ".join(methods) or "none"
            return Preflight(
                vary, f"method {method!r} is not allowed for this path (allowed: {listed})"
            )
        requested = [h.strip().lower() for h in (request_headers or "").split(",") if h.strip()]
        for header in requested:
            if not (self._headers_any or header in self._headers) or not _TOKEN.fullmatch(header):
                return Preflight(vary, f"request header {header!r} is not allowed")
        headers = [("Access-Control-Allow-Origin", allowed_origin)]
        if self._credentials:
            headers.append(("Access-Control-Allow-Credentials", "true"))
        headers.append(("Access-Control-Allow-Methods", ", ".join(methods)))
        if requested:
            # By name, never "*": Fetch's "*" covers neither Authorization nor
            # credentialed requests.
            headers.append(("Access-Control-Allow-Headers", ", ".join(dict.fromkeys(requested))))
        if self._max_age is not None:
            headers.append(("Access-Control-Max-Age", self._max_age))
        headers.extend(vary)
        return Preflight(headers)
