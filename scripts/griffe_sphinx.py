"""A griffe extension for the API reference (mkdocs.yml): read grpcgw's docstrings as written.

grpcgw documents attributes with ``#:`` comments above them (Sphinx's
convention, which griffe does not read) and cross-references with Sphinx
roles (``:func:`serve_local```), which Markdown would show as they are. This
extension turns the comments into the attributes' docstrings and the roles
into code spans, so the sources keep one style and the site reads well.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:func|meth|class|mod|attr|data|exc|obj|const):`~?([^`]+)`")


#: reST's "paragraph::" before a literal block; the indented block is code in Markdown too.
_LITERAL = re.compile(r"(?<=\S)::$", re.MULTILINE)


def _to_markdown(text: str) -> str:
    return _LITERAL.sub(":", _ROLE.sub(lambda m: f"`{m.group(1)}`", text))


class SphinxComments(griffe.Extension):
    """``#:`` comments -> attribute docstrings; Sphinx roles -> code spans; ``::`` -> ``:``."""

    def on_attribute_instance(self, *, attr: griffe.Attribute, **kwargs: Any) -> None:
        if attr.docstring is not None or attr.lineno is None:
            return
        lines = attr.module.lines  # the whole file
        comment: list[str] = []
        index = attr.lineno - 2  # the line above, 0-based
        while 0 <= index < len(lines) and lines[index].strip().startswith("#:"):
            comment.insert(0, lines[index].strip()[2:].strip())
            index -= 1
        if comment:
            attr.docstring = griffe.Docstring(
                " ".join(comment), lineno=index + 2, endlineno=attr.lineno - 1, parent=attr
            )

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        for obj in _walk(pkg):
            if obj.docstring is not None:
                obj.docstring.value = _to_markdown(obj.docstring.value)


def _walk(obj: griffe.Object) -> list[griffe.Object]:
    out = [obj]
    for member in obj.members.values():
        if not member.is_alias:
            out.extend(_walk(member))  # type: ignore[arg-type]
    return out
