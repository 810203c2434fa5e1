"""Unit tests of the route table (grpcgw.routing)."""

from __future__ import annotations

import contextlib
import itertools
import os
import pickle
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grpcgw.httprule import WILDCARD, PathTemplate, TemplateError, Variable
from grpcgw.options import UnescapeMode
from grpcgw.routing import (
    DuplicateRouteError,
    MalformedPath,
    Match,
    MethodNotAllowed,
    NotFound,
    Route,
    RouteTable,
    RoutingError,
)


def table(*routes: str, **options: object) -> RouteTable[str]:
    """A table of ``"METHOD /template"`` routes, each targeting its own spec string."""
    t: RouteTable[str] = RouteTable(**options)  # type: ignore[arg-type]
    for spec in routes:
        method, template = spec.split(" ", 1)
        t.add(method, template, spec)
    return t


def target(t: RouteTable[str], path: str, method: str = "GET") -> str | None:
    try:
        return t.match(method, path).target
    except NotFound:
        return None


def bindings(t: RouteTable[str], path: str, method: str = "GET") -> dict[str, str]:
    return t.match(method, path).bindings


# -- registration ------------------------------------------------------------------


def test_match_result() -> None:
    t = table("GET /v1/{name=shelves/*}")
    m = t.match("GET", "/v1/shelves/1")
    assert isinstance(m, Match)
    assert m.target == "GET /v1/{name=shelves/*}"
    assert m.bindings == {"name": "shelves/1"}
    assert m.template == PathTemplate.parse("/v1/{name=shelves/*}")
    assert m.method == "GET"
    with pytest.raises(AttributeError):  # immutable
        m.target = "x"  # type: ignore[misc]


def test_routes_and_len_in_registration_order() -> None:
    t: RouteTable[int] = RouteTable()
    assert len(t) == 0
    t.add("post", "/b", 1)
    tpl = PathTemplate.parse("/a/{x}")
    t.add("GET", tpl, 2)
    assert len(t) == 2
    routes = list(t.routes())
    assert routes == [Route("POST", PathTemplate.parse("/b"), 1), Route("GET", tpl, 2)]
    method, template, value = routes[1]
    assert (method, template, value) == ("GET", tpl, 2)
    assert routes[1].template is tpl


def test_methods_are_upper_cased_tokens() -> None:
    t = table("get /a", "PURGE /a", "HEAD /a", "M-SEARCH /a")
    assert target(t, "/a", "GET") == "get /a"
    assert target(t, "/a", "get") == "get /a"
    assert t.match("purge", "/a").method == "PURGE"
    assert target(t, "/a", "M-SEARCH") == "M-SEARCH /a"
    assert target(t, "/a", "HEAD") == "HEAD /a"
    for bad in ("", "GE T", "GET/", "G\u00c9T"):
        with pytest.raises(ValueError, match="invalid HTTP method"):
            t.add(bad, "/x", "x")


def test_invalid_template_raises_template_error() -> None:
    t: RouteTable[int] = RouteTable()
    with pytest.raises(TemplateError):
        t.add("GET", "/a/**/*", 1)
    assert len(t) == 0


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("/a/b", "/a/b"),
        ("/v1/{name=shelves/*}", "/v1/shelves/{id}"),
        ("/a/{x}", "/a/*"),
        ("/a/{x=**}:go", "/a/**:go"),
        ("/a/~b", "/a/%7Eb"),  # escaped unreserved character
        ("/a/%2f", "/a/%2F"),  # hex case
    ],
)
def test_duplicates(first: str, second: str) -> None:
    t: RouteTable[int] = RouteTable()
    t.add("GET", first, 1)
    with pytest.raises(DuplicateRouteError) as info:
        t.add("get", second, 2)
    err = info.value
    assert isinstance(err, ValueError)
    assert err.method == "GET"
    assert err.template.text == second
    assert err.existing.text == first
    assert first in str(err)
    assert second in str(err)
    assert len(t) == 1


def test_duplicate_leaves_the_table_working() -> None:
    t: RouteTable[int] = RouteTable()
    t.add("GET", "/a/{x}", 1)
    with pytest.raises(DuplicateRouteError):
        t.add("GET", "/a/{y}", 2)
    assert t.match("GET", "/a/b").bindings == {"x": "b"}


def test_not_duplicates() -> None:
    t = table(
        "GET /a/b",
        "POST /a/b",
        "GET /a/b:go",
        "GET /a/*",
        "GET /a/**",
        "GET /a/b/c",
        "GET /a/%2F",
        "GET /a/%2A",
        "GET /a/**/b",
    )
    assert len(t) == 9


# -- precedence --------------------------------------------------------------------

PRECEDENCE_ROUTES = [
    "GET /a/**",
    "GET /a/*/c",
    "GET /a/b/c",
    "GET /a/b/**",
    "GET /a/**/c",
    "GET /a/*",
]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/a/b/c", "GET /a/b/c"),  # all literal
        ("/a/x/c", "GET /a/*/c"),  # '*' beats '**' at segment 1
        ("/a/b/x", "GET /a/b/**"),  # literal 'b' beats '*' at segment 1
        ("/a/b", "GET /a/b/**"),  # '**' may match nothing; literal 'b' still wins
        ("/a/x", "GET /a/*"),
        ("/a/x/y/c", "GET /a/**/c"),  # a literal tail beats a bare '**'
        ("/a/x/y/z", "GET /a/**"),
        ("/a", "GET /a/**"),
    ],
)
def test_precedence_is_independent_of_registration_order(path: str, expected: str) -> None:
    for order in itertools.permutations(PRECEDENCE_ROUTES):
        assert target(table(*order), path) == expected, order


def test_search_backtracks_past_a_dead_end() -> None:
    t = table("GET /a/b/c", "GET /a/*/d")
    assert target(t, "/a/b/d") == "GET /a/*/d"


def test_method_takes_part_in_precedence() -> None:
    # The literal route exists only for POST, so a GET falls back to the wildcard.
    t = table("POST /a/b", "GET /a/*")
    assert target(t, "/a/b", "GET") == "GET /a/*"
    assert target(t, "/a/b", "POST") == "POST /a/b"


def test_longest_literal_tail_after_deep_wildcard() -> None:
    t = table("GET /x/**/b/c", "GET /x/**/c", "GET /x/**")
    assert target(t, "/x/b/c") == "GET /x/**/b/c"
    assert target(t, "/x/q/b/c") == "GET /x/**/b/c"
    assert target(t, "/x/q/c") == "GET /x/**/c"
    assert target(t, "/x/c") == "GET /x/**/c"
    assert target(t, "/x/c/q") == "GET /x/**"


# -- 404 / 405 -----------------------------------------------------------------------


def test_not_found() -> None:
    t = table("GET /a/b")
    with pytest.raises(NotFound) as info:
        t.match("GET", "/a/c?x=1")
    err = info.value
    assert not isinstance(err, MethodNotAllowed)
    assert isinstance(err, LookupError)
    assert isinstance(err, RoutingError)
    assert (err.method, err.path) == ("GET", "/a/c")
    assert str(err) == "no route matches GET /a/c"


def test_method_not_allowed_lists_sorted_methods() -> None:
    t = table("PUT /a/{x}", "DELETE /a/b", "POST /a/*", "GET /c")
    with pytest.raises(MethodNotAllowed) as info:
        t.match("patch", "/a/b")
    err = info.value
    assert isinstance(err, NotFound)
    assert err.method == "PATCH"
    assert err.allowed == ("DELETE", "POST", "PUT")
    assert str(err) == "method PATCH is not allowed for /a/b (allowed: DELETE, POST, PUT)"


def test_method_not_allowed_through_deep_wildcards_and_verbs() -> None:
    t = table("POST /a/**/z", "PUT /a/**", "POST /a/{x}:run", "GET /a/b")
    with pytest.raises(MethodNotAllowed) as info:
        t.match("DELETE", "/a/b/z")
    assert info.value.allowed == ("POST", "PUT")
    with pytest.raises(MethodNotAllowed) as info:
        t.match("GET", "/a/b:run")
    assert info.value.allowed == ("POST",)


def test_path_must_start_with_slash() -> None:
    t = table("GET /**")
    for path in ("", "a/b", "*", "http://host/a"):
        with pytest.raises(NotFound, match="does not start with '/'"):
            t.match("GET", path)


def test_empty_table() -> None:
    with pytest.raises(NotFound):
        RouteTable[int]().match("GET", "/")


# -- path shape --------------------------------------------------------------------


def test_query_is_ignored() -> None:
    t = table("GET /a/{x}")
    assert bindings(t, "/a/b?x=1&y=%zz") == {"x": "b"}
    assert bindings(t, "/a/b?") == {"x": "b"}
    assert bindings(t, "/a/b:c?d:e") == {"x": "b:c"}


def test_trailing_slashes_are_dropped() -> None:
    t = table("GET /a/b", "GET /", "GET /c/{x}")
    assert target(t, "/a/b/") == "GET /a/b"
    assert target(t, "/a/b//") == "GET /a/b"
    assert target(t, "/") == "GET /"
    assert bindings(t, "/c/d/") == {"x": "d"}


def test_root_only_matches_root() -> None:
    t = table("GET /")
    assert target(t, "/a") is None
    assert target(t, "/?a=b") == "GET /"


def test_wildcard_does_not_match_an_empty_segment() -> None:
    t = table("GET /a/*/b", "GET /c/{x}/d")
    assert target(t, "/a//b") is None
    assert target(t, "/c//d") is None


def test_deep_wildcard_matches_zero_or_more_segments() -> None:
    t = table("GET /a/{x=**}", "GET /b/{y=c/**}/d")
    assert bindings(t, "/a") == {"x": ""}
    assert bindings(t, "/a/b") == {"x": "b"}
    assert bindings(t, "/a/b//c") == {"x": "b//c"}
    assert bindings(t, "/b/c/d") == {"y": "c"}
    assert bindings(t, "/b/c/1/2/d") == {"y": "c/1/2"}


def test_bindings_around_a_deep_wildcard() -> None:
    t = table("GET /v1/{a}/{b=x/**/y}/z/end:go")
    assert bindings(t, "/v1/p/x/1/2/3/y/z/end:go") == {"a": "p", "b": "x/1/2/3/y"}
    assert bindings(t, "/v1/p/x/y/z/end:go") == {"a": "p", "b": "x/y"}


def test_escaped_slash_never_splits_segments() -> None:
    t = table("GET /a/{x}/b", "GET /c/{y=d/*}")
    assert bindings(t, "/a/1%2F2/b") == {"x": "1/2"}
    assert target(t, "/c/d%2Fe") is None
    assert bindings(t, "/c/d/e%2Ff") == {"y": "d/e%2Ff"}


def test_literals_compare_after_normalising_escapes() -> None:
    t = table("GET /a~b/%2A/%e7%ac%ac")
    assert target(t, "/a~b/%2A/%E7%AC%AC") is not None
    assert target(t, "/a%7eb/%2a/%e7%ac%ac") is not None
    assert target(t, "/a~b/%2A/\u7b2c") is not None  # raw non-ASCII equals its escapes
    assert target(t, "/a~b/*/%E7%AC%AC") is None  # a reserved character is not its escape


# -- decoding ------------------------------------------------------------------------


def test_single_segment_variables_are_fully_decoded() -> None:
    t = table("GET /a/{x}")
    assert bindings(t, "/a/p%20q%2Fr+") == {"x": "p q/r+"}
    reserved = "%21%23%24%26%27%28%29%2A%2B%2C%2F%3A%3B%3D%3F%40%5B%5D"
    assert bindings(t, "/a/" + reserved) == {"x": "!#$&'()*+,/:;=?@[]"}
    assert bindings(t, "/a/%c3%a9t%C3%A9") == {"x": "\u00e9t\u00e9"}


def test_decoding_happens_once() -> None:
    t = table("GET /a/{x}", "GET /b/{y=**}")
    assert bindings(t, "/a/%25") == {"x": "%"}
    assert bindings(t, "/a/%2525") == {"x": "%25"}
    assert bindings(t, "/b/%2525/%41") == {"y": "%25/A"}


RESERVED = "%21%23%24%26%27%28%29%2A%2B%2C%2F%3A%3B%3D%3F%40%5B%5D"


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        (UnescapeMode.ALL_EXCEPT_RESERVED, "p q/" + RESERVED + "/%2f%2F+~"),
        (UnescapeMode.ALL_EXCEPT_SLASH, "p q/!#$&'()*+,%2F:;=?@[]/%2f%2F+~"),
        (UnescapeMode.ALL_CHARACTERS, "p q/!#$&'()*+,/:;=?@[]///+~"),
    ],
)
def test_multi_segment_decoding_modes(mode: UnescapeMode, expected: str) -> None:
    t = table("GET /a/{x=**}", "GET /b/{x=*}/{y=c/*}", unescape_mode=mode)
    assert t.unescape_mode is mode
    assert bindings(t, "/a/p%20q/" + RESERVED + "/%2f%2F+%7E") == {"x": expected}
    # single-segment variables ignore the mode; '*' inside a multi-segment one does not
    assert bindings(t, "/b/%2F/c/%2F") == {
        "x": "/",
        "y": "c/" + ("/" if mode is UnescapeMode.ALL_CHARACTERS else "%2F"),
    }


def test_plus_is_literal() -> None:
    t = table("GET /a/{x}/{y=**}")
    assert bindings(t, "/a/1+2/3+4") == {"x": "1+2", "y": "3+4"}


@pytest.mark.parametrize("path", ["/a/%", "/a/%2", "/a/%zz", "/a/b%G0", "/a/%%41", "/zz/%"])
def test_malformed_escapes(path: str) -> None:
    t = table("GET /a/{x}", "GET /a/**")
    with pytest.raises(MalformedPath) as info:
        t.match("GET", path + "?q=1")
    err = info.value
    assert isinstance(err, ValueError)
    assert isinstance(err, RoutingError)
    assert not isinstance(err, NotFound)
    assert err.path == path
    assert "invalid percent-escape" in err.reason
    assert repr(path) in str(err)


@pytest.mark.parametrize("path", ["/a/%FF", "/a/%C3%28", "/a/%e7%ac", "/b/x/%ff"])
def test_invalid_utf8(path: str) -> None:
    t = table("GET /a/{x}", "GET /b/{y=**}")
    with pytest.raises(MalformedPath, match="not valid UTF-8"):
        t.match("GET", path)


@pytest.mark.parametrize("path", ["/a/\ud800", "/a/x\udcff", "/c/\ud800"])
def test_lone_surrogates_are_malformed(path: str) -> None:
    t = table("GET /a/{x}", "GET /b")
    with pytest.raises(MalformedPath, match="not valid UTF-8"):
        t.match("GET", path)


def test_raw_non_ascii_is_bound_as_is() -> None:
    t = table("GET /a/{x}", "GET /b/{y=**}")
    assert bindings(t, "/a/\u00e9t\u00e9") == {"x": "\u00e9t\u00e9"}
    assert bindings(t, "/b/\u7b2c/%E4%B8%80") == {"y": "\u7b2c/\u4e00"}


def test_invalid_utf8_in_a_literal_is_just_no_match() -> None:
    t = table("GET /a/b")
    with pytest.raises(NotFound):
        t.match("GET", "/a/%FF")


# -- verbs -----------------------------------------------------------------------------


def test_verb_route_wins_for_a_request_with_that_verb() -> None:
    t = table("GET /v1/{name}", "GET /v1/{name}:cancel")
    assert target(t, "/v1/op:cancel") == "GET /v1/{name}:cancel"
    assert bindings(t, "/v1/op:cancel") == {"name": "op"}
    assert target(t, "/v1/op") == "GET /v1/{name}"


def test_unregistered_verb_is_segment_text() -> None:
    t = table("GET /v1/{name}", "POST /x:cancel")
    assert bindings(t, "/v1/op:other") == {"name": "op:other"}
    assert bindings(t, "/v1/op:") == {"name": "op:"}


def test_registered_verb_is_always_a_verb() -> None:
    # ':cancel' is declared (by another route), so '/v1/op:cancel' carries a verb and
    # the verb-less route does not match it.
    t = table("GET /v1/{name}", "POST /x:cancel")
    assert target(t, "/v1/op:cancel") is None


def test_verb_only_in_the_last_segment() -> None:
    t = table("GET /{a}/{b}", "GET /{a}/{b}:go")
    assert bindings(t, "/x:go/y") == {"a": "x:go", "b": "y"}
    assert target(t, "/x:go/y:go") == "GET /{a}/{b}:go"
    assert bindings(t, "/x:go/y:go") == {"a": "x:go", "b": "y"}
    # a trailing slash moves the ':go' out of the last segment
    assert target(t, "/x/y:go/") == "GET /{a}/{b}"


def test_verb_needs_text_before_it() -> None:
    t = table("GET /{a}:go", "GET /{a}")
    assert bindings(t, "/:go") == {"a": ":go"}


def test_verb_containing_colon() -> None:
    t = table("POST /foo/{id}", "POST /foo/{id}:verb:subverb", "POST /bar/{id}:subverb")
    assert bindings(t, "/foo/bar:verb:subverb", "POST") == {"id": "bar"}
    assert target(t, "/foo/bar:verb:subverb", "POST") == "POST /foo/{id}:verb:subverb"
    # longest declared verb first, then the shorter one
    assert bindings(t, "/bar/x:verb:subverb", "POST") == {"id": "x:verb"}


def test_escaped_colon_is_not_a_verb_separator() -> None:
    t = table("GET /a/{x}", "GET /a/{x}:go")
    assert target(t, "/a/b%3Ago") == "GET /a/{x}"
    assert bindings(t, "/a/b%3Ago") == {"x": "b:go"}


def test_escaped_verb_text_is_normalised() -> None:
    t = table("GET /a/{x}:go")
    assert bindings(t, "/a/b:%67o") == {"x": "b"}


def test_match_unregistered_custom_verb() -> None:
    t = table("GET /p/{id}", "GET /p/{id}/name", match_unregistered_custom_verb=True)
    assert t.match_unregistered_custom_verb
    assert target(t, "/p/jason:other") is None
    assert bindings(t, "/p/jason:other/name") == {"id": "jason:other"}
    assert bindings(t, "/p/jason") == {"id": "jason"}
    t.add("GET", "/p/{id}:other", "verb")
    assert t.match("GET", "/p/jason:other").target == "verb"


# -- scale ---------------------------------------------------------------------------


def _many(n: int) -> RouteTable[int]:
    t: RouteTable[int] = RouteTable()
    for i in range(n):
        t.add("GET", f"/v1/svc{i}/shelves/{{shelf}}/books/{{book}}", i)
        t.add("POST", f"/v1/svc{i}/{{name=shelves/*}}:archive", i)
        t.add("GET", f"/v1/svc{i}/{{name=operations/**}}", i)
    return t


def test_many_routes() -> None:
    t = _many(4000)
    assert len(t) == 12000
    for i in (0, 1234, 3999):
        m = t.match("GET", f"/v1/svc{i}/shelves/s/books/b")
        assert (m.target, m.bindings) == (i, {"shelf": "s", "book": "b"})
        m = t.match("POST", f"/v1/svc{i}/shelves/s:archive")
        assert (m.target, m.bindings) == (i, {"name": "shelves/s"})
        m = t.match("GET", f"/v1/svc{i}/operations/a/b")
        assert (m.target, m.bindings) == (i, {"name": "operations/a/b"})
    with pytest.raises(NotFound):
        t.match("GET", "/v1/svc4000/shelves/s/books/b")


def test_long_paths_do_not_recurse_per_segment() -> None:
    t = table("GET /a/**/x", "GET /a/{y=**}")
    path = "/a" + "/b" * 100_000
    assert target(t, path + "/x") == "GET /a/**/x"
    assert target(t, path) == "GET /a/{y=**}"


# -- odds and ends -------------------------------------------------------------------


def test_errors_pickle() -> None:
    t = table("GET /a/{x}", "POST /b")
    errors: list[Exception] = []
    for method, path in (("GET", "/nope"), ("GET", "/b"), ("GET", "/a/%zz")):
        with pytest.raises(RoutingError) as info:
            t.match(method, path)
        errors.append(info.value)
    with pytest.raises(DuplicateRouteError) as dup:
        t.add("GET", "/a/{y}", "again")
    errors.append(dup.value)
    for err in errors:
        copy = pickle.loads(pickle.dumps(err))
        assert type(copy) is type(err)
        assert str(copy) == str(err)
    assert pickle.loads(pickle.dumps(errors[1])).allowed == ("POST",)


def test_hand_built_template_is_checked() -> None:
    good = PathTemplate.parse("/a/**/b")
    t: RouteTable[int] = RouteTable()
    with pytest.raises(TemplateError, match="only literal segments may follow"):
        t.add("GET", PathTemplate(good.text, (*good.segments, WILDCARD), (), ""), 1)
    with_var = PathTemplate.parse("/a/{x}")
    variable = with_var.variables[0]
    misplaced = Variable(variable.field_path, 0, 1, variable.segments)
    with pytest.raises(ValueError, match="build it with parse"):
        t.add("GET", PathTemplate(with_var.text, with_var.segments, (misplaced,), ""), 1)
    t.add("GET", good, 1)
    assert t.match("GET", "/a/x/b").target == 1


def _decode_in_threads(decode: Callable[[str], str], n: int) -> list[object]:
    """What ``n`` threads released at once get from ``decode`` (a result or an exception)."""
    import threading

    results: list[object] = []
    barrier = threading.Barrier(n)

    def work() -> None:
        barrier.wait()
        try:
            results.append(decode("%41%7e%2F%c3%a9"))
        except Exception as exc:
            results.append(exc)

    threads = [threading.Thread(target=work) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_lazy_decoding_tables_are_whole_when_threads_race_to_build_them() -> None:
    # The tables are built at first use; a thread must never see half of one.
    import sys

    from grpcgw import routing

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        for _ in range(20):
            assert _decode_in_threads(routing._make_decoder(b""), 8) == ["A~/\u00e9"] * 8
    finally:
        sys.setswitchinterval(interval)


# -- the literal-path shortcut -------------------------------------------------------

_SEGMENTS = st.sampled_from(["a", "b", "c", "*", "**", "{x}", "{y=b/*}"])
_TEMPLATES = st.tuples(
    st.sampled_from(["GET", "POST"]),
    st.lists(_SEGMENTS, min_size=0, max_size=4),
    st.sampled_from(["", ":go"]),
)
_REQUEST_PATHS = st.lists(
    st.sampled_from(["a", "b", "c", "", "a:go", "%61", "d"]), min_size=0, max_size=5
).map(lambda segs: "/" + "/".join(segs))


def _outcome(t: RouteTable[str], method: str, path: str) -> object:
    try:
        m = t.match(method, path)
    except MethodNotAllowed as exc:
        return ("405", exc.allowed)
    except NotFound:
        return "404"
    return (m.target, m.bindings, m.method)


# ``HYPOTHESIS_PROFILE=fuzz`` (tox -e fuzz) runs many more examples.
@settings(
    max_examples=5000 if os.environ.get("HYPOTHESIS_PROFILE") == "fuzz" else 300, deadline=None
)
@given(
    templates=st.lists(_TEMPLATES, min_size=1, max_size=6),
    requests=st.lists(st.tuples(st.sampled_from(["GET", "POST"]), _REQUEST_PATHS), max_size=8),
)
def test_literal_shortcut_finds_what_the_trie_finds(
    templates: list[tuple[str, list[str], str]], requests: list[tuple[str, str]]
) -> None:
    # Literal-only templates are also found by one dict lookup; without it the
    # trie must give the same answer for every request.
    with_shortcut: RouteTable[str] = RouteTable()
    trie_only: RouteTable[str] = RouteTable()
    for method, segments, verb in templates:
        template = "/" + "/".join(segments) + verb
        if segments.count("**") + sum("=" in s for s in segments) > 1 or (
            "**" in segments and segments.index("**") < len(segments) - 1
        ):
            continue  # not a valid template shape
        try:
            PathTemplate.parse(template)
        except TemplateError:
            continue
        for t in (with_shortcut, trie_only):
            with contextlib.suppress(DuplicateRouteError):
                t.add(method, template, f"{method} {template}")
    trie_only._literal.clear()
    for method, path in requests:
        assert _outcome(with_shortcut, method, path) == _outcome(trie_only, method, path)
