import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.api import httpbody_pb2 as _httpbody_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import empty_pb2 as _empty_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import wrappers_pb2 as _wrappers_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Mood(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MOOD_UNSPECIFIED: _ClassVar[Mood]
    HAPPY: _ClassVar[Mood]
    SAD: _ClassVar[Mood]
MOOD_UNSPECIFIED: Mood
HAPPY: Mood
SAD: Mood

class Scalars(_message.Message):
    __slots__ = ("d", "f", "i32", "i64", "u32", "u64", "s32", "s64", "fx32", "fx64", "sf32", "sf64", "b", "s", "by", "mood", "opt", "r_i64", "r_mood", "r_s", "ts", "dur", "mask", "w_i64", "w_b", "w_by", "w_s", "w_d", "w_u32", "labels", "moods", "inner", "renamed", "old")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class MoodsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: Mood
        def __init__(self, key: _Optional[int] = ..., value: _Optional[_Union[Mood, str]] = ...) -> None: ...
    D_FIELD_NUMBER: _ClassVar[int]
    F_FIELD_NUMBER: _ClassVar[int]
    I32_FIELD_NUMBER: _ClassVar[int]
    I64_FIELD_NUMBER: _ClassVar[int]
    U32_FIELD_NUMBER: _ClassVar[int]
    U64_FIELD_NUMBER: _ClassVar[int]
    S32_FIELD_NUMBER: _ClassVar[int]
    S64_FIELD_NUMBER: _ClassVar[int]
    FX32_FIELD_NUMBER: _ClassVar[int]
    FX64_FIELD_NUMBER: _ClassVar[int]
    SF32_FIELD_NUMBER: _ClassVar[int]
    SF64_FIELD_NUMBER: _ClassVar[int]
    B_FIELD_NUMBER: _ClassVar[int]
    S_FIELD_NUMBER: _ClassVar[int]
    BY_FIELD_NUMBER: _ClassVar[int]
    MOOD_FIELD_NUMBER: _ClassVar[int]
    OPT_FIELD_NUMBER: _ClassVar[int]
    R_I64_FIELD_NUMBER: _ClassVar[int]
    R_MOOD_FIELD_NUMBER: _ClassVar[int]
    R_S_FIELD_NUMBER: _ClassVar[int]
    TS_FIELD_NUMBER: _ClassVar[int]
    DUR_FIELD_NUMBER: _ClassVar[int]
    MASK_FIELD_NUMBER: _ClassVar[int]
    W_I64_FIELD_NUMBER: _ClassVar[int]
    W_B_FIELD_NUMBER: _ClassVar[int]
    W_BY_FIELD_NUMBER: _ClassVar[int]
    W_S_FIELD_NUMBER: _ClassVar[int]
    W_D_FIELD_NUMBER: _ClassVar[int]
    W_U32_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    MOODS_FIELD_NUMBER: _ClassVar[int]
    INNER_FIELD_NUMBER: _ClassVar[int]
    RENAMED_FIELD_NUMBER: _ClassVar[int]
    OLD_FIELD_NUMBER: _ClassVar[int]
    d: float
    f: float
    i32: int
    i64: int
    u32: int
    u64: int
    s32: int
    s64: int
    fx32: int
    fx64: int
    sf32: int
    sf64: int
    b: bool
    s: str
    by: bytes
    mood: Mood
    opt: str
    r_i64: _containers.RepeatedScalarFieldContainer[int]
    r_mood: _containers.RepeatedScalarFieldContainer[Mood]
    r_s: _containers.RepeatedScalarFieldContainer[str]
    ts: _timestamp_pb2.Timestamp
    dur: _duration_pb2.Duration
    mask: _field_mask_pb2.FieldMask
    w_i64: _wrappers_pb2.Int64Value
    w_b: _wrappers_pb2.BoolValue
    w_by: _wrappers_pb2.BytesValue
    w_s: _wrappers_pb2.StringValue
    w_d: _wrappers_pb2.DoubleValue
    w_u32: _wrappers_pb2.UInt32Value
    labels: _containers.ScalarMap[str, str]
    moods: _containers.ScalarMap[int, Mood]
    inner: Inner
    renamed: str
    old: str
    def __init__(self, d: _Optional[float] = ..., f: _Optional[float] = ..., i32: _Optional[int] = ..., i64: _Optional[int] = ..., u32: _Optional[int] = ..., u64: _Optional[int] = ..., s32: _Optional[int] = ..., s64: _Optional[int] = ..., fx32: _Optional[int] = ..., fx64: _Optional[int] = ..., sf32: _Optional[int] = ..., sf64: _Optional[int] = ..., b: _Optional[bool] = ..., s: _Optional[str] = ..., by: _Optional[bytes] = ..., mood: _Optional[_Union[Mood, str]] = ..., opt: _Optional[str] = ..., r_i64: _Optional[_Iterable[int]] = ..., r_mood: _Optional[_Iterable[_Union[Mood, str]]] = ..., r_s: _Optional[_Iterable[str]] = ..., ts: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., dur: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., w_i64: _Optional[_Union[_wrappers_pb2.Int64Value, _Mapping]] = ..., w_b: _Optional[_Union[_wrappers_pb2.BoolValue, _Mapping]] = ..., w_by: _Optional[_Union[_wrappers_pb2.BytesValue, _Mapping]] = ..., w_s: _Optional[_Union[_wrappers_pb2.StringValue, _Mapping]] = ..., w_d: _Optional[_Union[_wrappers_pb2.DoubleValue, _Mapping]] = ..., w_u32: _Optional[_Union[_wrappers_pb2.UInt32Value, _Mapping]] = ..., labels: _Optional[_Mapping[str, str]] = ..., moods: _Optional[_Mapping[int, Mood]] = ..., inner: _Optional[_Union[Inner, _Mapping]] = ..., renamed: _Optional[str] = ..., old: _Optional[str] = ...) -> None: ...

class Inner(_message.Message):
    __slots__ = ("name", "n", "next")
    NAME_FIELD_NUMBER: _ClassVar[int]
    N_FIELD_NUMBER: _ClassVar[int]
    NEXT_FIELD_NUMBER: _ClassVar[int]
    name: str
    n: int
    next: Inner
    def __init__(self, name: _Optional[str] = ..., n: _Optional[int] = ..., next: _Optional[_Union[Inner, _Mapping]] = ...) -> None: ...

class Thing(_message.Message):
    __slots__ = ("name", "title", "mood", "size", "tags", "counts", "create_time", "secret", "note", "number", "detail", "parts", "attributes", "extra", "blob", "parent_thing")
    class CountsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    MOOD_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    PARTS_FIELD_NUMBER: _ClassVar[int]
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    EXTRA_FIELD_NUMBER: _ClassVar[int]
    BLOB_FIELD_NUMBER: _ClassVar[int]
    PARENT_THING_FIELD_NUMBER: _ClassVar[int]
    name: str
    title: str
    mood: Mood
    size: int
    tags: _containers.RepeatedScalarFieldContainer[str]
    counts: _containers.ScalarMap[str, int]
    create_time: _timestamp_pb2.Timestamp
    secret: str
    note: str
    number: int
    detail: Inner
    parts: _containers.RepeatedCompositeFieldContainer[Inner]
    attributes: _struct_pb2.Struct
    extra: _struct_pb2.Value
    blob: bytes
    parent_thing: Thing
    def __init__(self, name: _Optional[str] = ..., title: _Optional[str] = ..., mood: _Optional[_Union[Mood, str]] = ..., size: _Optional[int] = ..., tags: _Optional[_Iterable[str]] = ..., counts: _Optional[_Mapping[str, int]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., secret: _Optional[str] = ..., note: _Optional[str] = ..., number: _Optional[int] = ..., detail: _Optional[_Union[Inner, _Mapping]] = ..., parts: _Optional[_Iterable[_Union[Inner, _Mapping]]] = ..., attributes: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., extra: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., blob: _Optional[bytes] = ..., parent_thing: _Optional[_Union[Thing, _Mapping]] = ...) -> None: ...

class CreateThingRequest(_message.Message):
    __slots__ = ("parent", "thing", "thing_id")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    THING_FIELD_NUMBER: _ClassVar[int]
    THING_ID_FIELD_NUMBER: _ClassVar[int]
    parent: str
    thing: Thing
    thing_id: str
    def __init__(self, parent: _Optional[str] = ..., thing: _Optional[_Union[Thing, _Mapping]] = ..., thing_id: _Optional[str] = ...) -> None: ...

class UpdateThingRequest(_message.Message):
    __slots__ = ("thing", "update_mask", "allow_missing")
    THING_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    ALLOW_MISSING_FIELD_NUMBER: _ClassVar[int]
    thing: Thing
    update_mask: _field_mask_pb2.FieldMask
    allow_missing: bool
    def __init__(self, thing: _Optional[_Union[Thing, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., allow_missing: _Optional[bool] = ...) -> None: ...

class GetThingRequest(_message.Message):
    __slots__ = ("name", "id", "mood", "read_mask", "view", "group")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    MOOD_FIELD_NUMBER: _ClassVar[int]
    READ_MASK_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    name: str
    id: int
    mood: Mood
    read_mask: _field_mask_pb2.FieldMask
    view: str
    group: str
    def __init__(self, name: _Optional[str] = ..., id: _Optional[int] = ..., mood: _Optional[_Union[Mood, str]] = ..., read_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., view: _Optional[str] = ..., group: _Optional[str] = ...) -> None: ...

class GetThingResponse(_message.Message):
    __slots__ = ("thing", "etag")
    THING_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    thing: Thing
    etag: str
    def __init__(self, thing: _Optional[_Union[Thing, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class UploadRequest(_message.Message):
    __slots__ = ("name", "file")
    NAME_FIELD_NUMBER: _ClassVar[int]
    FILE_FIELD_NUMBER: _ClassVar[int]
    name: str
    file: _httpbody_pb2.HttpBody
    def __init__(self, name: _Optional[str] = ..., file: _Optional[_Union[_httpbody_pb2.HttpBody, _Mapping]] = ...) -> None: ...

class RepeatRequest(_message.Message):
    __slots__ = ("count", "text")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    count: int
    text: str
    def __init__(self, count: _Optional[int] = ..., text: _Optional[str] = ...) -> None: ...

class CollectResponse(_message.Message):
    __slots__ = ("count", "titles")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    TITLES_FIELD_NUMBER: _ClassVar[int]
    count: int
    titles: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, count: _Optional[int] = ..., titles: _Optional[_Iterable[str]] = ...) -> None: ...
