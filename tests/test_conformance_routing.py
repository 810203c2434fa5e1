"""Conformance vectors for template parsing and route matching.

The vectors (``tests/data/conformance/{templates,matching}.json``) are byte-exact
copies of the shared suite; ``docs/conformance-routing.md`` explains them. Every
case runs. A case we deliberately decide differently from its ``expect`` goes
into the overrides below with the reason, and the test then asserts *our*
behaviour; there are none today.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from grpcgw.httprule import PathTemplate, TemplateError
from grpcgw.options import UnescapeMode
from grpcgw.routing import NotFound, RouteTable

DATA = Path(__file__).resolve().parent / "data" / "conformance"
TEMPLATES: list[dict[str, Any]] = json.loads((DATA / "templates.json").read_text("utf-8"))
MATCHING: list[dict[str, Any]] = json.loads((DATA / "matching.json").read_text("utf-8"))

# id -> (the expect we assert instead, why). Keep in sync with docs/conformance-routing.md.
TEMPLATE_OVERRIDES: dict[str, tuple[dict[str, Any], str]] = {}
MATCHING_OVERRIDES: dict[str, tuple[dict[str, Any], str]] = {}

KNOWN_OPTIONS = {"match_unregistered_custom_verb"}


def _accepts(text: str) -> PathTemplate | None:
    """The parsed template if it is valid at parse *and* registration time, else None."""
    try:
        template = PathTemplate.parse(text)
        RouteTable[None]().add("GET", template, None)
    except TemplateError:
        return None
    return template


@pytest.mark.parametrize("case", TEMPLATES, ids=[c["id"] for c in TEMPLATES])
def test_template(case: dict[str, Any]) -> None:
    valid: bool = case["valid"]
    expect: dict[str, Any] = case.get("expect", {})
    if case["id"] in TEMPLATE_OVERRIDES:
        override, _reason = TEMPLATE_OVERRIDES[case["id"]]
        valid = override["valid"]
        expect = override.get("expect", {})

    template = _accepts(case["template"])
    assert (template is not None) == valid, case.get("note")
    if template is None:
        return
    if "segments" in expect:
        assert [str(s) for s in template.segments] == expect["segments"]
    if "verb" in expect:
        assert template.verb == expect["verb"]
    if "variables" in expect:
        ours = [
            {"field_path": v.name, "segments": [str(s) for s in template.segments[v.start : v.end]]}
            for v in template.variables
        ]
        assert ours == expect["variables"]
    # Our own invariants on every valid template.
    for variable in template.variables:
        assert variable.segments == template.segments[variable.start : variable.end]
    assert PathTemplate.parse(str(template)) == template


def _run(case: dict[str, Any], mode: UnescapeMode, *, reverse: bool = False) -> Any:
    options = case.get("options", {})
    assert set(options) <= KNOWN_OPTIONS, f"unknown options {set(options) - KNOWN_OPTIONS}"
    table: RouteTable[int] = RouteTable(unescape_mode=mode, **options)
    routes = list(enumerate(case["routes"]))
    for index, route in reversed(routes) if reverse else routes:
        table.add(route["method"], route["template"], index)
    request = case["request"]
    try:
        match = table.match(request["method"], request["path"])
    except NotFound:  # includes MethodNotAllowed
        return None, None
    return match.target, match.bindings


@pytest.mark.parametrize("case", MATCHING, ids=[c["id"] for c in MATCHING])
def test_matching(case: dict[str, Any]) -> None:
    expect: dict[str, Any] = case["expect"]
    if case["id"] in MATCHING_OVERRIDES:
        expect = MATCHING_OVERRIDES[case["id"]][0]

    index, bindings = _run(case, UnescapeMode.ALL_EXCEPT_RESERVED)
    assert index == expect["route_index"], case.get("note")
    if expect["route_index"] is not None and expect["bindings"] is not None:
        assert bindings == expect["bindings"]
    for mode_name, mode_bindings in expect.get("bindings_by_mode", {}).items():
        index, bindings = _run(case, UnescapeMode(mode_name))
        assert index == expect["route_index"]
        assert bindings == mode_bindings, mode_name


@pytest.mark.parametrize("case", MATCHING, ids=[c["id"] for c in MATCHING])
def test_matching_ignores_registration_order(case: dict[str, Any]) -> None:
    """DESIGN.md: registration order never decides; the reversed table answers the same."""
    forward = _run(case, UnescapeMode.ALL_EXCEPT_RESERVED)
    backward = _run(case, UnescapeMode.ALL_EXCEPT_RESERVED, reverse=True)
    assert backward == forward


def test_overrides_name_existing_cases() -> None:
    assert set(TEMPLATE_OVERRIDES) <= {c["id"] for c in TEMPLATES}
    assert set(MATCHING_OVERRIDES) <= {c["id"] for c in MATCHING}


def test_vector_ids_are_unique() -> None:
    for cases in (TEMPLATES, MATCHING):
        ids = [c["id"] for c in cases]
        assert len(ids) == len(set(ids))
