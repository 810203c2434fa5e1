"""Route table: HTTP method + raw request path -> registered route + path bindings.

Routes are compiled at :meth:`RouteTable.add` time into a trie keyed by path
segment, so :meth:`RouteTable.match` costs about one dict lookup per request
segment whatever the number of routes. The rules (``DESIGN.md``, and
``docs/conformance-routing.md`` for the reasoning):

* **Precedence** is decided segment by segment, left to right: a literal beats
  ``*`` (or a single-segment variable), which beats ``**``. The search
  backtracks, so a less specific route still matches when the more specific
  branch fails further on or lacks the request method. Registration order never
  matters; the same method + path structure twice is a :class:`DuplicateRouteError`.
* **Verbs**: a trailing ``:xxx`` of the last segment is a verb only when some
  route declares the verb ``xxx`` (or ``match_unregistered_custom_verb`` is
  set); otherwise it is ordinary segment text. A request carrying a verb only
  matches routes with that verb.
* **Paths** are split on raw ``/`` only (an escaped ``%2F`` never separates
  segments), the query is ignored, trailing slashes are dropped (``/a/b/``
  matches ``/a/b``), ``*`` never matches an empty segment, ``**`` matches zero
  or more segments. Literals are compared after RFC 3986 normalisation of
  percent-escapes (hex case, escaped unreserved characters).
* **Bindings** are decoded once: single-segment variables fully (``%2F`` ->
  ``/``); multi-segment ones per :class:`~grpcgw.options.UnescapeMode`. ``+`` is
  a literal ``+``. Malformed escapes and invalid UTF-8 raise :class:`MalformedPath`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from typing import Any, Generic, NamedTuple, TypeVar

from grpcgw.httprule import PathTemplate, Segment, SegmentKind
from grpcgw.lazyre import lazy_compile
from grpcgw.options import UnescapeMode

__all__ = [
    "DuplicateRouteError",
    "MalformedPath",
    "Match",
    "MethodNotAllowed",
    "NotFound",
    "Route",
    "RouteTable",
    "RoutingError",
]

T = TypeVar("T")


# -- errors ------------------------------------------------------------------


def _shorten(text: str, limit: int = 200) -> str:
    # Request paths end up in error messages sent to clients; keep them bounded.
    return text if len(text) <= limit else text[: limit - 3] + "..."


class RoutingError(Exception):
    """Base class of the errors raised by :meth:`RouteTable.match`."""


class NotFound(RoutingError, LookupError):
    """No route matches the path, under any method (HTTP 404)."""

    method: str
    path: str

    def __init__(self, method: str, path: str, message: str | None = None) -> None:
        self.method = method
        self.path = path
        super().__init__(message or f"no route matches {method} {_shorten(path)}")

    def __reduce__(self) -> tuple[Any, ...]:
        # Exceptions pickle as cls(*args); args here is only the formatted message.
        return (type(self), (self.method, self.path, str(self)))


class MethodNotAllowed(NotFound):
    """The path matches routes, but only under other methods (HTTP 405).

    ``allowed`` lists those methods, sorted (the value of the ``Allow`` header).
    """

    allowed: tuple[str, ...]

    def __init__(self, method: str, path: str, allowed: tuple[str, ...]) -> None:
        self.allowed = allowed
        super().__init__(
            method,
            path,
            f"method {method} is not allowed for {_shorten(path)} (allowed: {', '.join(allowed)})",
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.method, self.path, self.allowed))


class MalformedPath(RoutingError, ValueError):
    """The request path cannot be decoded: a malformed ``%`` escape or invalid UTF-8 (HTTP 400)."""

    path: str
    reason: str

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"malformed request path {_shorten(path)!r}: {reason}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.path, self.reason))


class DuplicateRouteError(ValueError):
    """A route with the same method and path structure is already registered.

    Structure means segments and verb, regardless of variable names:
    ``/v1/{name=shelves/*}`` and ``/v1/shelves/{id}`` collide.
    """

    method: str
    template: PathTemplate
    existing: PathTemplate

    def __init__(self, method: str, template: PathTemplate, existing: PathTemplate) -> None:
        self.method = method
        self.template = template
        self.existing = existing
        super().__init__(
            f"duplicate route {method} {template.text}: it matches the same requests as "
            f"the already registered {method} {existing.text}"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.method, self.template, self.existing))


# -- public records ----------------------------------------------------------


class Route(NamedTuple, Generic[T]):
    """A registered route, as listed by :meth:`RouteTable.routes`."""

    method: str
    template: PathTemplate
    target: T


class Match(NamedTuple, Generic[T]):
    """A successful :meth:`RouteTable.match`.

    ``bindings`` maps each variable's dotted field path to its percent-decoded
    value (a string, before any type conversion).
    """

    target: T
    bindings: dict[str, str]
    template: PathTemplate
    method: str


# -- percent-encoding ----------------------------------------------------------

_HEX = "0123456789abcdefABCDEF"
# RFC 6570 reserved characters: kept escaped in multi-segment variables by default.
_RESERVED = b"!#$&'()*+,/:;=?@[]"
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ESCAPE_RE = re.compile(rb"%[0-9A-Fa-f]{2}")
_MALFORMED_RE = lazy_compile(r"%(?![0-9A-Fa-f]{2})")
_NORMALIZE_RE = re.compile(rb"%[0-9A-Fa-f]{2}|[\x80-\xff]")
_METHOD_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

_Decoder = Callable[[str], str]


def _escape_pairs() -> Iterator[tuple[bytes, int]]:
    for hi in _HEX:
        for lo in _HEX:
            yield f"%{hi}{lo}".encode("ascii"), int(hi + lo, 16)


def _make_decoder(keep: bytes) -> _Decoder:
    """A decoder turning every ``%XX`` into its byte except those of ``keep`` (kept as written)."""

    # Built at first use (most paths have no escapes), whole before any thread sees it.
    @functools.cache
    def table() -> dict[bytes, bytes]:
        return {e: e if byte in keep else bytes((byte,)) for e, byte in _escape_pairs()}

    def replace(m: re.Match[bytes]) -> bytes:
        return table()[m.group()]

    def decode(raw: str) -> str:
        if "%" not in raw:
            return raw
        return _ESCAPE_RE.sub(replace, raw.encode("utf-8")).decode("utf-8")

    return decode


_DECODE_ALL = _make_decoder(b"")
_MULTI_SEGMENT_DECODERS: dict[UnescapeMode, _Decoder] = {
    UnescapeMode.ALL_EXCEPT_RESERVED: _make_decoder(_RESERVED),
    UnescapeMode.ALL_EXCEPT_SLASH: _make_decoder(b"/"),
    UnescapeMode.ALL_CHARACTERS: _DECODE_ALL,
}


@functools.cache  # at first use: most templates and paths need no normalising
def _normalize_table() -> dict[bytes, bytes]:
    # RFC 3986 6.2.2: escapes of unreserved characters are decoded, other escapes
    # get upper-case hex; raw non-ASCII is escaped so it equals its encoded form.
    table = {
        escape: bytes((byte,)) if byte in _UNRESERVED else b"%%%02X" % byte
        for escape, byte in _escape_pairs()
    }
    table.update({bytes((byte,)): b"%%%02X" % byte for byte in range(0x80, 0x100)})
    return table


def _normalize_replace(m: re.Match[bytes]) -> bytes:
    return _normalize_table()[m.group()]


def _normalize(text: str) -> str:
    """Normal form used to compare literal segments and verbs."""
    if "%" not in text and text.isascii():
        return text
    return _NORMALIZE_RE.sub(_normalize_replace, text.encode("utf-8")).decode("ascii")


# -- the trie ------------------------------------------------------------------


class _CompiledRoute(Generic[T]):
    """A route plus what binding extraction needs, precomputed at ``add`` time."""

    __slots__ = ("deep", "size", "target", "template", "variables")

    def __init__(self, route: Route[T]) -> None:
        self.template = route.template
        self.target = route.target
        self.size = len(route.template.segments)
        self.deep = route.template.deep_wildcard_index
        self.variables = tuple(
            (v.name, v.start, v.end, v.multi_segment) for v in route.template.variables
        )


# verb -> method -> route
_Endpoints = dict[str, dict[str, _CompiledRoute[T]]]


class _Deep(Generic[T]):
    """A ``**`` edge: the literal suffixes that may follow it, each with its endpoints."""

    __slots__ = ("lengths", "suffixes")

    def __init__(self) -> None:
        self.suffixes: dict[tuple[str, ...], _Endpoints[T]] = {}
        # Distinct suffix lengths, longest first: a longer suffix starts earlier,
        # i.e. it puts a literal where a shorter one lets '**' absorb a segment.
        self.lengths: list[int] = []


_NO_ROUTES: dict[str, Any] = {}


class _Node(Generic[T]):
    __slots__ = ("deep", "endpoints", "literals", "star")

    def __init__(self) -> None:
        self.literals: dict[str, _Node[T]] = {}
        self.star: _Node[T] | None = None
        self.deep: _Deep[T] | None = None
        self.endpoints: _Endpoints[T] | None = None


def _pick(endpoints: _Endpoints[T] | None, verb: str, method: str) -> _CompiledRoute[T] | None:
    if endpoints is None:
        return None
    by_method = endpoints.get(verb)
    if by_method is None:
        return None
    return by_method.get(method)


def _search(
    node: _Node[T], keys: list[str], i: int, n: int, verb: str, method: str
) -> _CompiledRoute[T] | None:
    # Depth-first in precedence order (literal, '*', '**'). Recursion depth is
    # bounded by the longest template, not by the request: '**' is resolved
    # without recursing.
    if i == n:
        route = _pick(node.endpoints, verb, method)
        if route is None and node.deep is not None:
            route = _search_deep(node.deep, keys, i, n, verb, method)
        return route
    key = keys[i]
    child = node.literals.get(key)
    if child is not None:
        route = _search(child, keys, i + 1, n, verb, method)
        if route is not None:
            return route
    child = node.star
    if child is not None and key:
        route = _search(child, keys, i + 1, n, verb, method)
        if route is not None:
            return route
    if node.deep is not None:
        return _search_deep(node.deep, keys, i, n, verb, method)
    return None


def _search_deep(
    deep: _Deep[T], keys: list[str], i: int, n: int, verb: str, method: str
) -> _CompiledRoute[T] | None:
    remaining = n - i
    for length in deep.lengths:
        if length <= remaining:
            route = _pick(deep.suffixes.get(tuple(keys[n - length :])), verb, method)
            if route is not None:
                return route
    return None


def _collect(node: _Node[T], keys: list[str], i: int, n: int, verb: str, out: set[str]) -> None:
    """Add to ``out`` the methods of every route matching the path (the slow, 405 path)."""
    if i == n:
        if node.endpoints is not None:
            out.update(node.endpoints.get(verb, ()))
    else:
        key = keys[i]
        child = node.literals.get(key)
        if child is not None:
            _collect(child, keys, i + 1, n, verb, out)
        if node.star is not None and key:
            _collect(node.star, keys, i + 1, n, verb, out)
    deep = node.deep
    if deep is not None:
        for length in deep.lengths:
            if length <= n - i:
                endpoints = deep.suffixes.get(tuple(keys[n - length :]))
                if endpoints is not None:
                    out.update(endpoints.get(verb, ()))


def _structure_key(segment: Segment) -> str:
    # Wildcards get keys no normalised literal can take (literals are non-empty pchars).
    if segment.kind is SegmentKind.LITERAL:
        return _normalize(segment.text)
    return "{" + segment.text + "}"


# -- the table -----------------------------------------------------------------


class RouteTable(Generic[T]):
    """HTTP routes built from ``HttpRule`` templates, each carrying a caller-defined target.

    Build the table with :meth:`add`, then call :meth:`match` per request;
    ``match`` does not modify the table, so concurrent matching is safe as long
    as nobody adds routes at the same time.
    """

    __slots__ = (
        "_by_structure",
        "_decode_multi",
        "_literal",
        "_match_unregistered_custom_verb",
        "_root",
        "_routes",
        "_unescape_mode",
        "_verbs",
    )

    def __init__(
        self,
        *,
        unescape_mode: UnescapeMode = UnescapeMode.ALL_EXCEPT_RESERVED,
        match_unregistered_custom_verb: bool = False,
    ) -> None:
        self._unescape_mode = unescape_mode
        self._decode_multi = _MULTI_SEGMENT_DECODERS[unescape_mode]
        self._match_unregistered_custom_verb = match_unregistered_custom_verb
        self._root: _Node[T] = _Node()
        self._routes: list[Route[T]] = []
        self._by_structure: dict[tuple[str, tuple[str, ...], str], Route[T]] = {}
        self._verbs: set[str] = set()
        #: Templates of literal segments only, by path then method: the trie's
        #: depth-first search tries literals first, so such a route is the one it
        #: would find, and a plain request path finds it with one lookup.
        self._literal: dict[str, dict[str, _CompiledRoute[T]]] = {}

    @property
    def unescape_mode(self) -> UnescapeMode:
        """How multi-segment variables are percent-decoded."""
        return self._unescape_mode

    @property
    def match_unregistered_custom_verb(self) -> bool:
        """Whether any trailing ``:xxx`` of the last segment is taken as a verb."""
        return self._match_unregistered_custom_verb

    def __len__(self) -> int:
        return len(self._routes)

    def routes(self) -> Iterator[Route[T]]:
        """The registered routes, in registration order."""
        return iter(self._routes)

    def add(self, method: str, template: str | PathTemplate, target: T) -> None:
        """Register ``target`` for ``method`` (any HTTP token, upper-cased) and ``template``.

        Raises :class:`~grpcgw.httprule.TemplateError` for an invalid template,
        :class:`DuplicateRouteError` when the method and path structure are
        already registered, and :class:`ValueError` for an invalid method.
        """
        if not _METHOD_RE.fullmatch(method):
            raise ValueError(f"invalid HTTP method {method!r}: it must be an HTTP token")
        method = method.upper()
        if isinstance(template, PathTemplate):
            tpl = template
            # The trie relies on the grammar's invariants (one '**', only literals
            # after it); a hand-built PathTemplate has not been through the parser.
            if PathTemplate.parse(str(tpl)) != tpl:
                raise ValueError(f"inconsistent PathTemplate {tpl!r}: build it with parse()")
        else:
            tpl = PathTemplate.parse(template)
        verb = _normalize(tpl.verb)
        structure = (method, tuple(map(_structure_key, tpl.segments)), verb)
        existing = self._by_structure.get(structure)
        if existing is not None:
            raise DuplicateRouteError(method, tpl, existing.template)

        route = Route(method, tpl, target)
        compiled = _CompiledRoute(route)
        node = self._root
        deep_index = compiled.deep
        prefix = tpl.segments if deep_index < 0 else tpl.segments[:deep_index]
        for segment in prefix:
            if segment.kind is SegmentKind.LITERAL:
                key = _normalize(segment.text)
                child = node.literals.get(key)
                if child is None:
                    child = node.literals[key] = _Node()
                node = child
            else:
                if node.star is None:
                    node.star = _Node()
                node = node.star
        if deep_index < 0:
            if node.endpoints is None:
                node.endpoints = {}
            endpoints = node.endpoints
        else:
            if node.deep is None:
                node.deep = _Deep()
            deep = node.deep
            suffix = tuple(_normalize(s.text) for s in tpl.segments[deep_index + 1 :])
            endpoints = deep.suffixes.setdefault(suffix, {})
            if len(suffix) not in deep.lengths:
                deep.lengths.append(len(suffix))
                deep.lengths.sort(reverse=True)
        endpoints.setdefault(verb, {})[method] = compiled
        if not verb and all(seg.kind is SegmentKind.LITERAL for seg in tpl.segments):
            path = "/" + "/".join(_normalize(seg.text) for seg in tpl.segments)
            self._literal.setdefault(path, {})[method] = compiled
        if verb:
            self._verbs.add(verb)
        self._by_structure[structure] = route
        self._routes.append(route)

    def match(self, method: str, raw_path: str) -> Match[T]:
        """Find the route for ``method`` and the raw (still percent-encoded) request target.

        Everything from ``?`` on is ignored. Raises :class:`NotFound`,
        :class:`MethodNotAllowed` (a subclass of it) or :class:`MalformedPath`.
        """
        method = method.upper()
        q = raw_path.find("?")
        path = raw_path if q < 0 else raw_path[:q]
        if not path.startswith("/"):
            raise NotFound(method, path, f"request path {_shorten(path)!r} does not start with '/'")
        plain = "%" not in path and path.isascii()
        if plain and ":" not in path:
            route = self._literal.get(path, _NO_ROUTES).get(method)
            if route is not None:
                return Match(route.target, {}, route.template, method)
        elif not plain:
            if not path.isascii():
                try:
                    # Lone surrogates (a JSON event's "\ud800", or undecodable bytes a
                    # server kept via surrogateescape) are not UTF-8 text.
                    path.encode("utf-8")
                except UnicodeEncodeError:
                    raise MalformedPath(path, "path is not valid UTF-8") from None
            bad = _MALFORMED_RE.search(path)
            if bad is not None:
                escape = path[bad.start() : bad.start() + 3]
                raise MalformedPath(
                    path, f"invalid percent-escape {escape!r} at position {bad.start()}"
                )

        segments = path[1:].split("/")
        root = self._root
        attempts = None
        if ":" in segments[-1] and (self._verbs or self._match_unregistered_custom_verb):
            attempts = self._verb_attempts(segments, plain)
        if attempts is None:
            # The common case, kept free of the per-attempt bookkeeping below.
            while segments and not segments[-1]:
                segments.pop()
            keys = segments if plain else [_normalize(s) for s in segments]
            route = _search(root, keys, 0, len(keys), "", method)
            if route is not None:
                bindings = self._bind(route, segments, path) if route.variables else {}
                return Match(route.target, bindings, route.template, method)
            attempts = [(segments, "")]
        else:
            for segs, verb in attempts:
                keys = segs if plain else [_normalize(s) for s in segs]
                route = _search(root, keys, 0, len(keys), verb, method)
                if route is not None:
                    return Match(
                        route.target, self._bind(route, segs, path), route.template, method
                    )

        allowed: set[str] = set()
        for segs, verb in attempts:
            keys = segs if plain else [_normalize(s) for s in segs]
            _collect(root, keys, 0, len(keys), verb, allowed)
        if allowed:
            raise MethodNotAllowed(method, path, tuple(sorted(allowed)))
        raise NotFound(method, path)

    def _verb_attempts(
        self, segments: list[str], plain: bool
    ) -> list[tuple[list[str], str]] | None:
        """Ways to split a verb off the last segment, longest verb first; None if it has none.

        Verbs may contain ':' themselves (``bar:verb:subverb``), so every ':' is a
        candidate split point. The text before the verb must not be empty.
        """
        last = segments[-1]
        attempts: list[tuple[list[str], str]] = []
        colon = last.find(":", 1)
        while colon > 0:
            verb = last[colon + 1 :]
            key = verb if plain else _normalize(verb)
            if key in self._verbs:
                attempts.append(([*segments[:-1], last[:colon]], key))
            colon = last.find(":", colon + 1)
        if not attempts and self._match_unregistered_custom_verb:
            colon = last.rfind(":")
            if 0 < colon < len(last) - 1:
                verb = last[colon + 1 :]
                attempts.append(
                    ([*segments[:-1], last[:colon]], verb if plain else _normalize(verb))
                )
        return attempts or None

    def _bind(self, route: _CompiledRoute[T], segments: list[str], path: str) -> dict[str, str]:
        bindings: dict[str, str] = {}
        # Template index -> request index: indices after '**' shift by the number
        # of extra segments it absorbed (delta is 0 for templates without '**').
        delta = len(segments) - route.size
        deep = route.deep
        try:
            for name, start, end, multi in route.variables:
                if start > deep:
                    start += delta
                if end > deep:
                    end += delta
                if multi:
                    decode = self._decode_multi
                    bindings[name] = "/".join([decode(s) for s in segments[start:end]])
                else:
                    bindings[name] = _DECODE_ALL(segments[start])
        except UnicodeDecodeError as exc:
            reason = f"percent-decoded path is not valid UTF-8 ({exc.reason})"
            raise MalformedPath(path, reason) from exc
        return bindings
