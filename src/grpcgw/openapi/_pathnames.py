"""The names of path parameters: one per wildcard, unique within each operation.

OpenAPI path parameters cannot hold ``/``, so a multi-segment variable
(``{name=shelves/*/books/*}``) is expanded into one parameter per wildcard. Two
namings (``GatewayOptions.openapi_path_names``):

* ``"field"``: after the field, then ``_1``, ``_2``: ``shelves/{name}/books/{name_1}``
  (grpc-gateway's protoc-gen-openapiv3);
* ``"resource"``: after the literal segment before each wildcard, made singular,
  as AIP-122 resource names read: ``shelves/{shelf}/books/{book}`` (grpc-gateway's
  protoc-gen-openapiv2 ``expand_slashed_path_patterns``, with a fuller singular).

A wildcard without a literal before it in its variable, or whose name would
repeat another parameter of an operation on the path (path, query or header),
takes the field naming. Pure: the standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Final

# A collection identifier a name can be made of (AIP-122 allows lowerCamel; snake
# and kebab case are taken too). Any other literal names nothing.
_COLLECTION: Final = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
# Words of a collection identifier: split at "_", "-" and before a capital.
_WORDS: Final = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")

#: Plurals the suffix rules below would get wrong (and words that are their own plural).
IRREGULAR: Final = {
    "aliases": "alias",
    "analyses": "analysis",
    "caches": "cache",
    "children": "child",
    "cookies": "cookie",
    "halves": "half",
    "indices": "index",
    "knives": "knife",
    "leaves": "leaf",
    "lives": "life",
    "matrices": "matrix",
    "men": "man",
    "movies": "movie",
    "news": "news",
    "people": "person",
    "series": "series",
    "shelves": "shelf",
    "species": "species",
    "statuses": "status",
    "vertices": "vertex",
    "wolves": "wolf",
    "women": "woman",
}


def singular(word: str) -> str:
    """The singular of an English plural, by rule (docs/openapi.md states it):

    1. a word in :data:`IRREGULAR` (``shelves`` -> ``shelf``, ``people`` -> ``person``);
    2. ``-ies`` -> ``-y`` for words of five letters or more (``policies`` -> ``policy``);
    3. ``-sses``, ``-shes``, ``-ches``, ``-xes``, ``-zzes`` lose ``-es`` (``addresses``,
       ``branches``, ``boxes``);
    4. ``-ss``, ``-us``, ``-is`` are kept (``status``, ``access``, ``analysis``);
    5. any other ``-s`` is dropped from a word of three letters or more (``books`` ->
       ``book``, ``ids`` -> ``id``, ``databases`` -> ``database``);
    6. anything else is kept (``data``, ``config``).

    Case is compared without regard to case; the first letter keeps its case.
    """
    lower = word.lower()
    if lower in IRREGULAR:
        result = IRREGULAR[lower]
    elif lower.endswith("ies") and len(lower) >= 5:
        result = lower[:-3] + "y"
    elif lower.endswith(("sses", "shes", "ches", "xes", "zzes")):
        result = lower[:-2]
    elif lower.endswith(("ss", "us", "is")) or not lower.endswith("s") or len(lower) < 3:
        return word
    else:
        result = lower[:-1]
    return (result[:1].upper() if word[:1].isupper() else result[:1]) + result[1:]


def resource_name(literal: str, *, proto_names: bool) -> str | None:
    """The parameter name for a wildcard after the collection ``literal``, or ``None``
    when the literal is no identifier (``v1.2``, ``%7E``).

    The last word is made singular; with JSON names (the default) the result is
    lowerCamel (``test_cases`` and ``test-cases`` -> ``testCase``, ``userEvents`` ->
    ``userEvent``), with ``use_proto_names`` the literal keeps its form
    (``test_case``, ``test-case``, ``userEvent``)."""
    if _COLLECTION.fullmatch(literal) is None:
        return None
    words = _WORDS.findall(literal)
    if not words:
        return None
    last = words[-1]
    start = literal.rindex(last)
    form = literal[:start] + singular(last) + literal[start + len(last) :]
    if proto_names:
        return form
    parts = [w for w in re.split(r"[_-]", form) if w]
    return parts[0][:1].lower() + parts[0][1:] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


class Slot:
    """One parameter of a path to be named: ``fallback`` is the field naming's name,
    ``resource`` the resource naming's (``None``: none), ``fixed`` says that the name
    belongs to a whole variable or an unnamed wildcard, which both namings share."""

    __slots__ = ("fallback", "fixed", "name", "resource")

    def __init__(self, fallback: str, resource: str | None, *, fixed: bool) -> None:
        self.fallback = fallback
        self.resource = resource
        self.fixed = fixed
        self.name = fallback


def choose(slots: Sequence[Slot], reserved: Iterable[str], *, resource: bool) -> None:
    """Set each slot's ``name``, distinct from each other and from ``reserved`` (the
    query and header parameters of every operation on the path).

    Fixed names first, then the wildcards in order: the resource name where asked
    for and free, else the fallback; a name still taken gets ``_1``, ``_2``, ... (a
    path parameter that repeats a query parameter, which only an odd proto makes)."""
    taken = set(reserved)

    def take(name: str) -> str:
        unique, n = name, 0
        while unique in taken:
            n += 1
            unique = f"{name}_{n}"
        taken.add(unique)
        return unique

    for slot in slots:
        if slot.fixed:
            slot.name = take(slot.fallback)
    for slot in slots:
        if slot.fixed:
            continue
        if resource and slot.resource is not None and slot.resource not in taken:
            slot.name = take(slot.resource)
        else:
            slot.name = take(slot.fallback)
