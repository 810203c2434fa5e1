"""The path-template grammar of ``google.api.http`` (``HttpRule``).

From the comment in ``google/api/http.proto``::

    Template = "/" Segments [ Verb ] ;
    Segments = Segment { "/" Segment } ;
    Segment  = "*" | "**" | LITERAL | Variable ;
    Variable = "{" FieldPath [ "=" Segments ] "}" ;
    FieldPath = IDENT { "." IDENT } ;
    Verb     = ":" LITERAL ;

``PathTemplate.parse`` turns a template into an immutable value: the flattened
segment list (a variable contributes its sub-template, ``{x}`` being ``*``),
the variables with the slice of segments each covers, and the custom verb.

Decisions beyond the grammar (they follow the conformance vectors; see
``docs/conformance-routing.md``):

* ``/`` alone is the root template (no segments). Every other segment must be
  non-empty: ``//``, ``/a/`` and ``/a/:verb`` are rejected.
* A literal is one or more RFC 3986 ``pchar`` characters other than ``:``,
  with well-formed ``%XX`` escapes.
* The first ``:`` outside a variable starts the verb, which runs to the end of
  the template. The verb is a non-empty literal that may itself contain ``:``
  (``/v1/{name}:bla:baa`` has the verb ``bla:baa``) but not ``/``, so a ``:``
  can only appear in the last segment. ``:`` inside a variable is rejected.
* Field names are proto identifiers; variables do not nest; a field path may
  be bound only once.
* At most one ``**``, and only literal segments (and the verb) may follow it:
  ``/a/**/b`` is accepted (both server implementations relax http.proto's
  "``**`` must be last" this far), ``/a/**/*``, ``/a/**/**`` and
  ``/a/**/{x}`` are not.
"""

from __future__ import annotations

import enum
import re
from typing import Any

from grpcgw.records import Record, setfield

__all__ = [
    "DEEP_WILDCARD",
    "WILDCARD",
    "PathTemplate",
    "Segment",
    "SegmentKind",
    "TemplateError",
    "Variable",
]


class TemplateError(ValueError):
    """A path template that does not follow the ``HttpRule`` grammar.

    ``position`` is the 0-based offset into ``template`` where the problem was
    found (``len(template)`` when the text ended too early).
    """

    template: str
    position: int
    reason: str

    def __init__(self, template: str, position: int, reason: str) -> None:
        self.template = template
        self.position = position
        self.reason = reason
        super().__init__(f"invalid path template {template!r}: {reason} at position {position}")

    def __reduce__(self) -> tuple[Any, ...]:
        # The default reduction would call __init__ with the formatted message only.
        return (type(self), (self.template, self.position, self.reason))


class SegmentKind(enum.Enum):
    """What a template segment matches."""

    #: Exactly the literal text (after percent-escape normalisation).
    LITERAL = "literal"
    #: ``*``: exactly one non-empty path segment.
    WILDCARD = "wildcard"
    #: ``**``: zero or more path segments.
    DEEP_WILDCARD = "deep_wildcard"


class Segment(Record):
    """One segment of a template: a literal, ``*`` or ``**``.

    ``text`` is the literal as written in the template (escapes intact), or
    ``"*"`` / ``"**"`` for the wildcards; ``str(segment)`` returns it.
    """

    __slots__ = ("kind", "text")
    kind: SegmentKind
    text: str

    def __init__(self, kind: SegmentKind, text: str) -> None:
        expected = _WILDCARD_TEXT.get(kind)
        if expected is not None and text != expected:
            raise ValueError(f"a {kind.value} segment must have the text {expected!r}")
        if expected is None and not text:
            raise ValueError("a literal segment must not be empty")
        setfield(self, "kind", kind)
        setfield(self, "text", text)

    @property
    def is_literal(self) -> bool:
        """Whether this is a literal segment."""
        return self.kind is SegmentKind.LITERAL

    def __str__(self) -> str:
        return self.text


_WILDCARD_TEXT = {SegmentKind.WILDCARD: "*", SegmentKind.DEEP_WILDCARD: "**"}

#: The ``*`` segment.
WILDCARD = Segment(SegmentKind.WILDCARD, "*")
#: The ``**`` segment.
DEEP_WILDCARD = Segment(SegmentKind.DEEP_WILDCARD, "**")


class Variable(Record):
    """A ``{field.path=sub/template}`` variable.

    ``start`` and ``end`` (exclusive) index the template's flattened
    ``segments``; ``segments`` repeats that slice (the sub-template, ``*`` for
    ``{x}``).
    """

    __slots__ = ("end", "field_path", "segments", "start")
    field_path: tuple[str, ...]
    start: int
    end: int
    segments: tuple[Segment, ...]

    def __init__(
        self, field_path: tuple[str, ...], start: int, end: int, segments: tuple[Segment, ...]
    ) -> None:
        setfield(self, "field_path", field_path)
        setfield(self, "start", start)
        setfield(self, "end", end)
        setfield(self, "segments", segments)

    @property
    def name(self) -> str:
        """The dotted field path, e.g. ``"book.name"``."""
        return ".".join(self.field_path)

    @property
    def multi_segment(self) -> bool:
        """Whether the variable can span several path segments.

        True for any sub-template longer than one segment and for ``**``
        (http.proto calls ``{var=foo/*}`` and ``{var=**}`` multi-segment); such
        values keep some percent-escapes when decoded.
        """
        return len(self.segments) != 1 or self.segments[0].kind is SegmentKind.DEEP_WILDCARD

    def __str__(self) -> str:
        if self.segments == (WILDCARD,):
            return "{" + self.name + "}"
        return "{" + self.name + "=" + "/".join(map(str, self.segments)) + "}"


class PathTemplate(Record):
    """A parsed ``HttpRule`` path template. Build it with :meth:`parse`.

    Equality and hashing ignore the original ``text``: ``/a/{x}`` equals
    ``/a/{x=*}``.
    """

    __slots__ = ("segments", "text", "variables", "verb")
    _uncompared = frozenset({"text"})
    #: The template as given to :meth:`parse`.
    text: str
    #: Flattened segments: each variable contributes its sub-template.
    segments: tuple[Segment, ...]
    #: Variables in template order.
    variables: tuple[Variable, ...]
    #: The custom verb without the ``:`` (``""`` when there is none).
    verb: str

    def __init__(
        self,
        text: str,
        segments: tuple[Segment, ...],
        variables: tuple[Variable, ...],
        verb: str,
    ) -> None:
        setfield(self, "text", text)
        setfield(self, "segments", segments)
        setfield(self, "variables", variables)
        setfield(self, "verb", verb)

    @classmethod
    def parse(cls, text: str) -> PathTemplate:
        """Parse ``text``; raise :class:`TemplateError` if it is not a valid template."""
        return _Parser(text).parse()

    @property
    def deep_wildcard_index(self) -> int:
        """Index of the ``**`` segment in ``segments``, or -1 when there is none."""
        for i, segment in enumerate(self.segments):
            if segment.kind is SegmentKind.DEEP_WILDCARD:
                return i
        return -1

    def __str__(self) -> str:
        """The canonical form: ``{x=*}`` written as ``{x}``."""
        parts: list[str] = []
        starts = {v.start: v for v in self.variables}
        i = 0
        while i < len(self.segments):
            variable = starts.get(i)
            if variable is not None:
                parts.append(str(variable))
                i = variable.end
            else:
                parts.append(self.segments[i].text)
                i += 1
        verb = ":" + self.verb if self.verb else ""
        return "/" + "/".join(parts) + verb


# RFC 3986: pchar = unreserved / pct-encoded / sub-delims / ":" / "@". The ":" is
# left out of literals on purpose: it introduces the verb (see module docstring).
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_SUB_DELIMS = frozenset("!$&'()*+,;=")
_LITERAL_CHARS = _UNRESERVED | _SUB_DELIMS | {"@"}
_VERB_CHARS = _LITERAL_CHARS | {":"}
_HEXDIGITS = frozenset("0123456789abcdefABCDEF")
_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Characters that end a literal token; anything else is read into the token and
# then judged, so an error points at the offending character itself.
_TOKEN_END = frozenset("/{}:")


class _Parser:
    """Recursive-descent parser; keeps the text offset of every segment for errors."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.segments: list[Segment] = []
        self.positions: list[int] = []  # text offset of each entry in `segments`
        self.variables: list[Variable] = []
        self.variable_positions: list[int] = []

    def error(self, position: int, reason: str) -> TemplateError:
        return TemplateError(self.text, position, reason)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def parse(self) -> PathTemplate:
        text = self.text
        if not text.startswith("/"):
            raise self.error(0, "a template must start with '/'")
        self.pos = 1
        if text != "/":
            self.parse_segments(in_variable=False)
        verb = ""
        if self.peek() == ":":
            verb = self.parse_verb()
        if self.pos != len(text):
            # Only '}' can stop the top-level segment loop early.
            raise self.error(self.pos, "unmatched '}'")
        self.check_deep_wildcard()
        return PathTemplate(
            text=text,
            segments=tuple(self.segments),
            variables=tuple(self.variables),
            verb=verb,
        )

    def parse_segments(self, *, in_variable: bool) -> None:
        while True:
            self.parse_segment(in_variable=in_variable)
            if self.peek() != "/":
                return
            self.pos += 1

    def parse_segment(self, *, in_variable: bool) -> None:
        start = self.pos
        if self.peek() == "{":
            if in_variable:
                raise self.error(start, "variables must not be nested")
            self.parse_variable()
            following = self.peek()
            if following not in ("", "/", ":", "}"):
                raise self.error(self.pos, "a variable must be a whole path segment")
            return
        text = self.text
        end = start
        while end < len(text) and text[end] not in _TOKEN_END:
            end += 1
        token = text[start:end]
        self.pos = end
        following = self.peek()
        if not token:
            if following == "{":
                raise self.error(start, "a variable must be a whole path segment")
            if following == "}":
                if not in_variable:
                    raise self.error(start, "unmatched '}'")
                raise self.error(start, "empty sub-template in variable")
            raise self.error(start, "empty path segment")
        if following == "{":
            raise self.error(end, "a variable must be a whole path segment")
        if following == ":" and in_variable:
            raise self.error(end, "':' is not allowed inside a variable")
        if token == "*":
            segment = WILDCARD
        elif token == "**":
            segment = DEEP_WILDCARD
        else:
            self.check_literal(token, start, _LITERAL_CHARS, "literal")
            segment = Segment(SegmentKind.LITERAL, token)
        self.segments.append(segment)
        self.positions.append(start)

    def parse_variable(self) -> None:
        open_pos = self.pos
        self.pos += 1  # '{'
        field_path = self.parse_field_path()
        first = len(self.segments)
        following = self.peek()
        if following == "=":
            self.pos += 1
            if self.peek() == "":
                raise self.error(self.pos, "unterminated variable")
            self.parse_segments(in_variable=True)
        elif following == "}":
            self.segments.append(WILDCARD)
            self.positions.append(open_pos)
        elif following == "":
            raise self.error(self.pos, "unterminated variable")
        else:
            raise self.error(self.pos, f"unexpected {following!r} in field path")
        if self.peek() != "}":
            raise self.error(self.pos, "unterminated variable")
        self.pos += 1
        name = ".".join(field_path)
        if any(v.field_path == field_path for v in self.variables):
            raise self.error(open_pos + 1, f"field {name!r} is bound more than once")
        self.variables.append(
            Variable(
                field_path=field_path,
                start=first,
                end=len(self.segments),
                segments=tuple(self.segments[first:]),
            )
        )
        self.variable_positions.append(open_pos)

    def parse_field_path(self) -> tuple[str, ...]:
        names: list[str] = []
        while True:
            m = _IDENT_RE.match(self.text, self.pos)
            if m is None:
                if self.pos >= len(self.text):
                    raise self.error(self.pos, "unterminated variable")
                what = repr(self.text[self.pos])
                raise self.error(self.pos, f"expected a field name, found {what}")
            names.append(m.group())
            self.pos = m.end()
            if self.peek() != ".":
                return tuple(names)
            self.pos += 1

    def parse_verb(self) -> str:
        colon = self.pos
        self.pos = len(self.text)
        verb = self.text[colon + 1 :]
        if not verb:
            raise self.error(colon + 1, "empty verb")
        slash = verb.find("/")
        if slash >= 0:
            raise self.error(
                colon, "':' is only allowed to start the custom verb at the end of the template"
            )
        self.check_literal(verb, colon + 1, _VERB_CHARS, "verb")
        return verb

    def check_literal(self, token: str, offset: int, allowed: frozenset[str], what: str) -> None:
        i = 0
        while i < len(token):
            ch = token[i]
            if ch == "%":
                escape = token[i : i + 3]
                if len(escape) < 3 or escape[1] not in _HEXDIGITS or escape[2] not in _HEXDIGITS:
                    raise self.error(offset + i, f"malformed percent-escape {escape!r} in {what}")
                i += 3
                continue
            if ch not in allowed:
                raise self.error(offset + i, f"character {ch!r} is not allowed in a {what}")
            i += 1

    def check_deep_wildcard(self) -> None:
        deep = -1
        for i, segment in enumerate(self.segments):
            if segment.kind is SegmentKind.DEEP_WILDCARD:
                if deep >= 0:
                    raise self.error(self.positions[i], "only one '**' is allowed")
                deep = i
            elif segment.kind is SegmentKind.WILDCARD and deep >= 0:
                raise self.error(self.positions[i], "only literal segments may follow '**'")
        if deep < 0:
            return
        for variable, position in zip(self.variables, self.variable_positions, strict=True):
            if variable.start > deep:
                raise self.error(position, "only literal segments may follow '**'")
