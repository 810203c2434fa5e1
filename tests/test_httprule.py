"""Unit tests of the HttpRule path-template parser (grpcgw.httprule)."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from grpcgw.httprule import (
    DEEP_WILDCARD,
    WILDCARD,
    PathTemplate,
    Segment,
    SegmentKind,
    TemplateError,
    Variable,
)


def lit(text: str) -> Segment:
    return Segment(SegmentKind.LITERAL, text)


# -- the parsed structure ------------------------------------------------------


def test_literals_and_variables() -> None:
    t = PathTemplate.parse("/v1/{name=shelves/*}/books/{book.id}:publish")
    assert t.text == "/v1/{name=shelves/*}/books/{book.id}:publish"
    assert t.segments == (lit("v1"), lit("shelves"), WILDCARD, lit("books"), WILDCARD)
    assert t.verb == "publish"
    name, book = t.variables
    assert (name.field_path, name.name, name.start, name.end) == (("name",), "name", 1, 3)
    assert name.segments == (lit("shelves"), WILDCARD)
    assert name.multi_segment
    assert (book.field_path, book.name, book.start, book.end) == (("book", "id"), "book.id", 4, 5)
    assert book.segments == (WILDCARD,)
    assert not book.multi_segment


def test_root_template_has_no_segments() -> None:
    t = PathTemplate.parse("/")
    assert t.segments == ()
    assert t.variables == ()
    assert t.verb == ""
    assert str(t) == "/"


@pytest.mark.parametrize(
    ("text", "multi"),
    [
        ("/{x}", False),
        ("/{x=*}", False),
        ("/{x=abc}", False),
        ("/{x=**}", True),
        ("/{x=a/*}", True),
        ("/{x=*/*}", True),
    ],
)
def test_multi_segment_variables(text: str, multi: bool) -> None:
    (variable,) = PathTemplate.parse(text).variables
    assert variable.multi_segment is multi


def test_segment_kinds() -> None:
    t = PathTemplate.parse("/a/*/**")
    assert [s.kind for s in t.segments] == [
        SegmentKind.LITERAL,
        SegmentKind.WILDCARD,
        SegmentKind.DEEP_WILDCARD,
    ]
    assert [s.is_literal for s in t.segments] == [True, False, False]
    assert [str(s) for s in t.segments] == ["a", "*", "**"]
    assert t.segments[1] is WILDCARD
    assert t.segments[2] is DEEP_WILDCARD


def test_deep_wildcard_index() -> None:
    assert PathTemplate.parse("/a/b").deep_wildcard_index == -1
    assert PathTemplate.parse("/a/{x=b/**}/c").deep_wildcard_index == 2


def test_segment_rejects_inconsistent_values() -> None:
    with pytest.raises(ValueError, match="must have the text"):
        Segment(SegmentKind.WILDCARD, "x")
    with pytest.raises(ValueError, match="must not be empty"):
        Segment(SegmentKind.LITERAL, "")


@pytest.mark.parametrize(
    ("text", "verb"),
    [
        ("/a:b", "b"),
        ("/v1/{name}:bla:baa", "bla:baa"),
        ("/a/**:verb", "verb"),
        ("/a:%41b", "%41b"),
        ("/a:b@c", "b@c"),
    ],
)
def test_verbs(text: str, verb: str) -> None:
    assert PathTemplate.parse(text).verb == verb


@pytest.mark.parametrize(
    "text",
    [
        "/a=b&c;d,e+f!g$h'i(j)k*l@m",  # every sub-delim and '@' is a pchar
        "/-._~",
        "/%e7%ac%ac/%2F",
        "/a/{x=b=c}",
        "/a/**/b/c:d",
        "/{x=**}/a/b",
        "/{_x.y_2}",
    ],
)
def test_accepted(text: str) -> None:
    PathTemplate.parse(text)


def test_canonical_form() -> None:
    t = PathTemplate.parse("/v1/{a=*}/{b.c=x/**}/y:go")
    assert str(t) == "/v1/{a}/{b.c=x/**}/y:go"
    assert str(t.variables[1]) == "{b.c=x/**}"
    assert PathTemplate.parse(str(t)) == t


def test_equality_ignores_spelling_but_not_names() -> None:
    a = PathTemplate.parse("/a/{x}")
    b = PathTemplate.parse("/a/{x=*}")
    assert a == b
    assert hash(a) == hash(b)
    assert a != PathTemplate.parse("/a/{y}")
    assert a != PathTemplate.parse("/a/*")
    assert len({a, b}) == 1


def test_immutable() -> None:
    t = PathTemplate.parse("/a/{x}")
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.verb = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.variables[0].start = 3  # type: ignore[misc]


def test_variable_str_and_name() -> None:
    v = Variable(field_path=("a", "b"), start=0, end=1, segments=(WILDCARD,))
    assert v.name == "a.b"
    assert str(v) == "{a.b}"


# -- errors ----------------------------------------------------------------------


def test_error_message_and_attributes() -> None:
    with pytest.raises(TemplateError) as info:
        PathTemplate.parse("/a/{b")
    err = info.value
    assert isinstance(err, ValueError)
    assert (err.template, err.position, err.reason) == ("/a/{b", 5, "unterminated variable")
    assert str(err) == "invalid path template '/a/{b': unterminated variable at position 5"


def test_error_pickles() -> None:
    err = TemplateError("/x", 1, "boom")
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.template, copy.position, copy.reason, str(copy)) == (
        "/x",
        1,
        "boom",
        str(err),
    )


@pytest.mark.parametrize(
    ("text", "position", "reason"),
    [
        ("", 0, "must start with '/'"),
        ("a/b", 0, "must start with '/'"),
        ("//", 1, "empty path segment"),
        ("/a/", 3, "empty path segment"),
        ("/a//b", 3, "empty path segment"),
        ("/a/:verb", 3, "empty path segment"),
        ("/a:", 3, "empty verb"),
        ("/a/{", 4, "unterminated variable"),
        ("/a/{x=b", 7, "unterminated variable"),
        ("/a/{x=", 6, "unterminated variable"),
        ("/a/{x=}", 6, "empty sub-template"),
        ("/a/{}", 4, "expected a field name, found '}'"),
        ("/a/{x.}", 6, "expected a field name"),
        ("/a/{1x}", 4, "expected a field name, found '1'"),
        ("/a/{field-name}", 9, "unexpected '-' in field path"),
        ("/a/{x={y}}", 6, "must not be nested"),
        ("/a{x}", 2, "a variable must be a whole path segment"),
        ("/{x}a", 4, "a variable must be a whole path segment"),
        ("/a}", 2, "unmatched '}'"),
        ("/a/}", 3, "unmatched '}'"),
        ("/a/{x=b:c}", 7, "':' is not allowed inside a variable"),
        ("/a:b/c", 2, "':' is only allowed to start the custom verb"),
        ("/a?b", 2, "character '?' is not allowed in a literal"),
        ("/a#b", 2, "character '#' is not allowed in a literal"),
        ("/a b", 2, "character ' ' is not allowed in a literal"),
        ("/é", 1, "character 'é' is not allowed in a literal"),
        ("/a%2", 2, "malformed percent-escape '%2'"),
        ("/a%zz", 2, "malformed percent-escape '%zz'"),
        ("/a:b%", 4, "malformed percent-escape '%' in verb"),
        ("/a:{x}", 3, "character '{' is not allowed in a verb"),
        ("/a/**/**", 6, "only one '**' is allowed"),
        ("/a/**/*", 6, "only literal segments may follow '**'"),
        ("/a/**/{x}", 6, "only literal segments may follow '**'"),
        ("/a/{x=**}/{y=b}", 10, "only literal segments may follow '**'"),
        ("/{x}/{x}", 6, "field 'x' is bound more than once"),
    ],
)
def test_errors(text: str, position: int, reason: str) -> None:
    with pytest.raises(TemplateError) as info:
        PathTemplate.parse(text)
    assert info.value.position == position
    assert reason in info.value.reason
    assert f"at position {position}" in str(info.value)
