import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import wrappers_pb2 as _wrappers_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    KIND_UNSPECIFIED: _ClassVar[Kind]
    KIND_A: _ClassVar[Kind]
    KIND_B: _ClassVar[Kind]
    KIND_NEGATIVE: _ClassVar[Kind]
    KIND_BIG: _ClassVar[Kind]
KIND_UNSPECIFIED: Kind
KIND_A: Kind
KIND_B: Kind
KIND_NEGATIVE: Kind
KIND_BIG: Kind

class Child(_message.Message):
    __slots__ = ("name", "level", "ids")
    NAME_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    IDS_FIELD_NUMBER: _ClassVar[int]
    name: str
    level: int
    ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, name: _Optional[str] = ..., level: _Optional[int] = ..., ids: _Optional[_Iterable[int]] = ...) -> None: ...

class Nested(_message.Message):
    __slots__ = ("label", "count", "kind", "notes", "child", "when")
    LABEL_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    CHILD_FIELD_NUMBER: _ClassVar[int]
    WHEN_FIELD_NUMBER: _ClassVar[int]
    label: str
    count: int
    kind: Kind
    notes: _containers.RepeatedScalarFieldContainer[str]
    child: Child
    when: _timestamp_pb2.Timestamp
    def __init__(self, label: _Optional[str] = ..., count: _Optional[int] = ..., kind: _Optional[_Union[Kind, str]] = ..., notes: _Optional[_Iterable[str]] = ..., child: _Optional[_Union[Child, _Mapping]] = ..., when: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AllTypes(_message.Message):
    __slots__ = ("str", "i64", "u64", "i32", "s64", "f64", "f32", "flag", "kind", "data", "fx64", "sfx32", "u32", "tags", "ids", "kinds", "ratios", "flags", "blobs", "big", "nested", "when", "took", "mask", "min", "umax", "label", "on", "ratio", "raw", "small", "fl", "u32v", "opt_str", "opt_i64", "opt_kind", "opt_flag", "choice_str", "choice_num", "choice_msg", "renamed", "snake_case_field", "counts", "children")
    class CountsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    STR_FIELD_NUMBER: _ClassVar[int]
    I64_FIELD_NUMBER: _ClassVar[int]
    U64_FIELD_NUMBER: _ClassVar[int]
    I32_FIELD_NUMBER: _ClassVar[int]
    S64_FIELD_NUMBER: _ClassVar[int]
    F64_FIELD_NUMBER: _ClassVar[int]
    F32_FIELD_NUMBER: _ClassVar[int]
    FLAG_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    FX64_FIELD_NUMBER: _ClassVar[int]
    SFX32_FIELD_NUMBER: _ClassVar[int]
    U32_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    IDS_FIELD_NUMBER: _ClassVar[int]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    RATIOS_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    BLOBS_FIELD_NUMBER: _ClassVar[int]
    BIG_FIELD_NUMBER: _ClassVar[int]
    NESTED_FIELD_NUMBER: _ClassVar[int]
    WHEN_FIELD_NUMBER: _ClassVar[int]
    TOOK_FIELD_NUMBER: _ClassVar[int]
    MASK_FIELD_NUMBER: _ClassVar[int]
    MIN_FIELD_NUMBER: _ClassVar[int]
    UMAX_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    ON_FIELD_NUMBER: _ClassVar[int]
    RATIO_FIELD_NUMBER: _ClassVar[int]
    RAW_FIELD_NUMBER: _ClassVar[int]
    SMALL_FIELD_NUMBER: _ClassVar[int]
    FL_FIELD_NUMBER: _ClassVar[int]
    U32V_FIELD_NUMBER: _ClassVar[int]
    OPT_STR_FIELD_NUMBER: _ClassVar[int]
    OPT_I64_FIELD_NUMBER: _ClassVar[int]
    OPT_KIND_FIELD_NUMBER: _ClassVar[int]
    OPT_FLAG_FIELD_NUMBER: _ClassVar[int]
    CHOICE_STR_FIELD_NUMBER: _ClassVar[int]
    CHOICE_NUM_FIELD_NUMBER: _ClassVar[int]
    CHOICE_MSG_FIELD_NUMBER: _ClassVar[int]
    RENAMED_FIELD_NUMBER: _ClassVar[int]
    SNAKE_CASE_FIELD_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    CHILDREN_FIELD_NUMBER: _ClassVar[int]
    str: str
    i64: int
    u64: int
    i32: int
    s64: int
    f64: float
    f32: float
    flag: bool
    kind: Kind
    data: bytes
    fx64: int
    sfx32: int
    u32: int
    tags: _containers.RepeatedScalarFieldContainer[str]
    ids: _containers.RepeatedScalarFieldContainer[int]
    kinds: _containers.RepeatedScalarFieldContainer[Kind]
    ratios: _containers.RepeatedScalarFieldContainer[float]
    flags: _containers.RepeatedScalarFieldContainer[bool]
    blobs: _containers.RepeatedScalarFieldContainer[bytes]
    big: _containers.RepeatedScalarFieldContainer[int]
    nested: Nested
    when: _timestamp_pb2.Timestamp
    took: _duration_pb2.Duration
    mask: _field_mask_pb2.FieldMask
    min: _wrappers_pb2.Int64Value
    umax: _wrappers_pb2.UInt64Value
    label: _wrappers_pb2.StringValue
    on: _wrappers_pb2.BoolValue
    ratio: _wrappers_pb2.DoubleValue
    raw: _wrappers_pb2.BytesValue
    small: _wrappers_pb2.Int32Value
    fl: _wrappers_pb2.FloatValue
    u32v: _wrappers_pb2.UInt32Value
    opt_str: str
    opt_i64: int
    opt_kind: Kind
    opt_flag: bool
    choice_str: str
    choice_num: int
    choice_msg: Nested
    renamed: str
    snake_case_field: str
    counts: _containers.ScalarMap[str, int]
    children: _containers.RepeatedCompositeFieldContainer[Nested]
    def __init__(self, str: _Optional[str] = ..., i64: _Optional[int] = ..., u64: _Optional[int] = ..., i32: _Optional[int] = ..., s64: _Optional[int] = ..., f64: _Optional[float] = ..., f32: _Optional[float] = ..., flag: _Optional[bool] = ..., kind: _Optional[_Union[Kind, str]] = ..., data: _Optional[bytes] = ..., fx64: _Optional[int] = ..., sfx32: _Optional[int] = ..., u32: _Optional[int] = ..., tags: _Optional[_Iterable[str]] = ..., ids: _Optional[_Iterable[int]] = ..., kinds: _Optional[_Iterable[_Union[Kind, str]]] = ..., ratios: _Optional[_Iterable[float]] = ..., flags: _Optional[_Iterable[bool]] = ..., blobs: _Optional[_Iterable[bytes]] = ..., big: _Optional[_Iterable[int]] = ..., nested: _Optional[_Union[Nested, _Mapping]] = ..., when: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., took: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., min: _Optional[_Union[_wrappers_pb2.Int64Value, _Mapping]] = ..., umax: _Optional[_Union[_wrappers_pb2.UInt64Value, _Mapping]] = ..., label: _Optional[_Union[_wrappers_pb2.StringValue, _Mapping]] = ..., on: _Optional[_Union[_wrappers_pb2.BoolValue, _Mapping]] = ..., ratio: _Optional[_Union[_wrappers_pb2.DoubleValue, _Mapping]] = ..., raw: _Optional[_Union[_wrappers_pb2.BytesValue, _Mapping]] = ..., small: _Optional[_Union[_wrappers_pb2.Int32Value, _Mapping]] = ..., fl: _Optional[_Union[_wrappers_pb2.FloatValue, _Mapping]] = ..., u32v: _Optional[_Union[_wrappers_pb2.UInt32Value, _Mapping]] = ..., opt_str: _Optional[str] = ..., opt_i64: _Optional[int] = ..., opt_kind: _Optional[_Union[Kind, str]] = ..., opt_flag: _Optional[bool] = ..., choice_str: _Optional[str] = ..., choice_num: _Optional[int] = ..., choice_msg: _Optional[_Union[Nested, _Mapping]] = ..., renamed: _Optional[str] = ..., snake_case_field: _Optional[str] = ..., counts: _Optional[_Mapping[str, int]] = ..., children: _Optional[_Iterable[_Union[Nested, _Mapping]]] = ...) -> None: ...
