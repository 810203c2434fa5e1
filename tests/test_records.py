"""grpcgw.records: the internal frozen records behave as the frozen dataclasses they replace."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest

from grpcgw.httprule import PathTemplate, Segment, SegmentKind
from grpcgw.records import Record, setfield


class _Pair(Record):
    __slots__ = ("cache", "label", "value")
    value: int
    label: str
    cache: dict[str, int]
    _uncompared = frozenset({"label", "cache"})
    _unshown = _derived = frozenset({"cache"})

    def __init__(self, value: int, label: str = "") -> None:
        setfield(self, "value", value)
        setfield(self, "label", label)
        setfield(self, "cache", {})


def test_fields_follow_the_annotations_not_the_sorted_slots() -> None:
    assert _Pair._fields == ("value", "label", "cache")
    assert repr(_Pair(1, "a")) == "_Pair(value=1, label='a')"


def test_equality_and_hash_over_the_compared_fields_of_the_same_class() -> None:
    assert _Pair(1, "a") == _Pair(1, "b")
    assert hash(_Pair(1, "a")) == hash(_Pair(1, "b"))
    assert _Pair(1) != _Pair(2)
    assert _Pair(1) != (1,)
    assert len({_Pair(1, "a"), _Pair(1, "b"), _Pair(2)}) == 2


def test_frozen_like_a_dataclass() -> None:
    pair = _Pair(1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        pair.value = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del pair.label
    with pytest.raises(AttributeError):
        pair.other = 1  # type: ignore[attr-defined]
    pair.cache["k"] = 1  # a mutable field's contents still change (BindingPlan's cache)
    assert pair.cache == {"k": 1}


def test_copies_and_pickles_rebuild_through_init() -> None:
    pair = _Pair(3, "x")
    pair.cache["k"] = 1
    for again in (copy.copy(pair), copy.deepcopy(pair), pickle.loads(pickle.dumps(pair))):
        assert again == pair
        assert (again.label, again.cache) == ("x", {})
    template = PathTemplate.parse("/v1/{name=shelves/*}/books/**:get")
    assert pickle.loads(pickle.dumps(template)) == template
    assert copy.deepcopy(template).text == template.text


def test_slots_must_name_the_annotated_fields() -> None:
    with pytest.raises(TypeError, match="__slots__ must name the annotated fields"):

        class _Bad(Record):
            __slots__ = ("a",)
            a: int
            b: int


def test_the_converted_types_keep_their_checks() -> None:
    with pytest.raises(ValueError, match="must have the text"):
        Segment(SegmentKind.WILDCARD, "x")
