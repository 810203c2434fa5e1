import datetime

from google.protobuf import any_pb2 as _any_pb2
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

class Color(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COLOR_UNSPECIFIED: _ClassVar[Color]
    RED: _ClassVar[Color]
    GREEN: _ClassVar[Color]
COLOR_UNSPECIFIED: Color
RED: Color
GREEN: Color

class Child(_message.Message):
    __slots__ = ("name", "count", "grand", "tags", "color")
    NAME_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    GRAND_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    COLOR_FIELD_NUMBER: _ClassVar[int]
    name: str
    count: int
    grand: Child
    tags: _containers.RepeatedScalarFieldContainer[str]
    color: Color
    def __init__(self, name: _Optional[str] = ..., count: _Optional[int] = ..., grand: _Optional[_Union[Child, _Mapping]] = ..., tags: _Optional[_Iterable[str]] = ..., color: _Optional[_Union[Color, str]] = ...) -> None: ...

class Kitchen(_message.Message):
    __slots__ = ("double_value", "float_value", "int32_value", "int64_value", "uint32_value", "uint64_value", "sint32_value", "sint64_value", "fixed32_value", "fixed64_value", "sfixed32_value", "sfixed64_value", "bool_value", "string_value", "bytes_value", "color", "optional_string", "optional_int32", "renamed", "repeated_int32", "repeated_string", "repeated_color", "repeated_bytes", "repeated_timestamp", "repeated_int64_wrapper", "double_wrapper", "float_wrapper", "int64_wrapper", "uint64_wrapper", "int32_wrapper", "uint32_wrapper", "bool_wrapper", "string_wrapper", "bytes_wrapper", "timestamp", "duration", "field_mask", "struct", "value", "list_value", "any", "empty", "string_map", "color_by_id", "children_by_name", "timestamp_by_flag", "child", "children", "kitchen", "choice_text", "choice_child", "choice_number")
    class StringMapEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class ColorByIdEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: Color
        def __init__(self, key: _Optional[int] = ..., value: _Optional[_Union[Color, str]] = ...) -> None: ...
    class ChildrenByNameEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: Child
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[Child, _Mapping]] = ...) -> None: ...
    class TimestampByFlagEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: bool
        value: _timestamp_pb2.Timestamp
        def __init__(self, key: _Optional[bool] = ..., value: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
    DOUBLE_VALUE_FIELD_NUMBER: _ClassVar[int]
    FLOAT_VALUE_FIELD_NUMBER: _ClassVar[int]
    INT32_VALUE_FIELD_NUMBER: _ClassVar[int]
    INT64_VALUE_FIELD_NUMBER: _ClassVar[int]
    UINT32_VALUE_FIELD_NUMBER: _ClassVar[int]
    UINT64_VALUE_FIELD_NUMBER: _ClassVar[int]
    SINT32_VALUE_FIELD_NUMBER: _ClassVar[int]
    SINT64_VALUE_FIELD_NUMBER: _ClassVar[int]
    FIXED32_VALUE_FIELD_NUMBER: _ClassVar[int]
    FIXED64_VALUE_FIELD_NUMBER: _ClassVar[int]
    SFIXED32_VALUE_FIELD_NUMBER: _ClassVar[int]
    SFIXED64_VALUE_FIELD_NUMBER: _ClassVar[int]
    BOOL_VALUE_FIELD_NUMBER: _ClassVar[int]
    STRING_VALUE_FIELD_NUMBER: _ClassVar[int]
    BYTES_VALUE_FIELD_NUMBER: _ClassVar[int]
    COLOR_FIELD_NUMBER: _ClassVar[int]
    OPTIONAL_STRING_FIELD_NUMBER: _ClassVar[int]
    OPTIONAL_INT32_FIELD_NUMBER: _ClassVar[int]
    RENAMED_FIELD_NUMBER: _ClassVar[int]
    REPEATED_INT32_FIELD_NUMBER: _ClassVar[int]
    REPEATED_STRING_FIELD_NUMBER: _ClassVar[int]
    REPEATED_COLOR_FIELD_NUMBER: _ClassVar[int]
    REPEATED_BYTES_FIELD_NUMBER: _ClassVar[int]
    REPEATED_TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    REPEATED_INT64_WRAPPER_FIELD_NUMBER: _ClassVar[int]
    DOUBLE_WRAPPER_FIELD_NUMBER: _ClassVar[int]
    FLOAT_WRAPPER_FIELD_NUMBER: _ClassVar[int]
    INT64_WRAPPER_FIELD_NUMBER: _ClassVar[int]
    UINT64_WRAPPER_FIELD_NUMBER: _ClassVar[int]
    INT32_WRAPPER_FIELD_NUMBER: _ClassVar[int]
    UINT32_WRAPPER_FIELD_NUMBER: _ClassVar[int]
    BOOL_WRAPPER_FIELD_NUMBER: _ClassVar[int]
    STRING_WRAPPER_FIELD_NUMBER: _ClassVar[int]
    BYTES_WRAPPER_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    FIELD_MASK_FIELD_NUMBER: _ClassVar[int]
    STRUCT_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    LIST_VALUE_FIELD_NUMBER: _ClassVar[int]
    ANY_FIELD_NUMBER: _ClassVar[int]
    EMPTY_FIELD_NUMBER: _ClassVar[int]
    STRING_MAP_FIELD_NUMBER: _ClassVar[int]
    COLOR_BY_ID_FIELD_NUMBER: _ClassVar[int]
    CHILDREN_BY_NAME_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_BY_FLAG_FIELD_NUMBER: _ClassVar[int]
    CHILD_FIELD_NUMBER: _ClassVar[int]
    CHILDREN_FIELD_NUMBER: _ClassVar[int]
    KITCHEN_FIELD_NUMBER: _ClassVar[int]
    CHOICE_TEXT_FIELD_NUMBER: _ClassVar[int]
    CHOICE_CHILD_FIELD_NUMBER: _ClassVar[int]
    CHOICE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    double_value: float
    float_value: float
    int32_value: int
    int64_value: int
    uint32_value: int
    uint64_value: int
    sint32_value: int
    sint64_value: int
    fixed32_value: int
    fixed64_value: int
    sfixed32_value: int
    sfixed64_value: int
    bool_value: bool
    string_value: str
    bytes_value: bytes
    color: Color
    optional_string: str
    optional_int32: int
    renamed: str
    repeated_int32: _containers.RepeatedScalarFieldContainer[int]
    repeated_string: _containers.RepeatedScalarFieldContainer[str]
    repeated_color: _containers.RepeatedScalarFieldContainer[Color]
    repeated_bytes: _containers.RepeatedScalarFieldContainer[bytes]
    repeated_timestamp: _containers.RepeatedCompositeFieldContainer[_timestamp_pb2.Timestamp]
    repeated_int64_wrapper: _containers.RepeatedCompositeFieldContainer[_wrappers_pb2.Int64Value]
    double_wrapper: _wrappers_pb2.DoubleValue
    float_wrapper: _wrappers_pb2.FloatValue
    int64_wrapper: _wrappers_pb2.Int64Value
    uint64_wrapper: _wrappers_pb2.UInt64Value
    int32_wrapper: _wrappers_pb2.Int32Value
    uint32_wrapper: _wrappers_pb2.UInt32Value
    bool_wrapper: _wrappers_pb2.BoolValue
    string_wrapper: _wrappers_pb2.StringValue
    bytes_wrapper: _wrappers_pb2.BytesValue
    timestamp: _timestamp_pb2.Timestamp
    duration: _duration_pb2.Duration
    field_mask: _field_mask_pb2.FieldMask
    struct: _struct_pb2.Struct
    value: _struct_pb2.Value
    list_value: _struct_pb2.ListValue
    any: _any_pb2.Any
    empty: _empty_pb2.Empty
    string_map: _containers.ScalarMap[str, str]
    color_by_id: _containers.ScalarMap[int, Color]
    children_by_name: _containers.MessageMap[str, Child]
    timestamp_by_flag: _containers.MessageMap[bool, _timestamp_pb2.Timestamp]
    child: Child
    children: _containers.RepeatedCompositeFieldContainer[Child]
    kitchen: Kitchen
    choice_text: str
    choice_child: Child
    choice_number: int
    def __init__(self, double_value: _Optional[float] = ..., float_value: _Optional[float] = ..., int32_value: _Optional[int] = ..., int64_value: _Optional[int] = ..., uint32_value: _Optional[int] = ..., uint64_value: _Optional[int] = ..., sint32_value: _Optional[int] = ..., sint64_value: _Optional[int] = ..., fixed32_value: _Optional[int] = ..., fixed64_value: _Optional[int] = ..., sfixed32_value: _Optional[int] = ..., sfixed64_value: _Optional[int] = ..., bool_value: _Optional[bool] = ..., string_value: _Optional[str] = ..., bytes_value: _Optional[bytes] = ..., color: _Optional[_Union[Color, str]] = ..., optional_string: _Optional[str] = ..., optional_int32: _Optional[int] = ..., renamed: _Optional[str] = ..., repeated_int32: _Optional[_Iterable[int]] = ..., repeated_string: _Optional[_Iterable[str]] = ..., repeated_color: _Optional[_Iterable[_Union[Color, str]]] = ..., repeated_bytes: _Optional[_Iterable[bytes]] = ..., repeated_timestamp: _Optional[_Iterable[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]]] = ..., repeated_int64_wrapper: _Optional[_Iterable[_Union[_wrappers_pb2.Int64Value, _Mapping]]] = ..., double_wrapper: _Optional[_Union[_wrappers_pb2.DoubleValue, _Mapping]] = ..., float_wrapper: _Optional[_Union[_wrappers_pb2.FloatValue, _Mapping]] = ..., int64_wrapper: _Optional[_Union[_wrappers_pb2.Int64Value, _Mapping]] = ..., uint64_wrapper: _Optional[_Union[_wrappers_pb2.UInt64Value, _Mapping]] = ..., int32_wrapper: _Optional[_Union[_wrappers_pb2.Int32Value, _Mapping]] = ..., uint32_wrapper: _Optional[_Union[_wrappers_pb2.UInt32Value, _Mapping]] = ..., bool_wrapper: _Optional[_Union[_wrappers_pb2.BoolValue, _Mapping]] = ..., string_wrapper: _Optional[_Union[_wrappers_pb2.StringValue, _Mapping]] = ..., bytes_wrapper: _Optional[_Union[_wrappers_pb2.BytesValue, _Mapping]] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., field_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., struct: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., list_value: _Optional[_Union[_struct_pb2.ListValue, _Mapping]] = ..., any: _Optional[_Union[_any_pb2.Any, _Mapping]] = ..., empty: _Optional[_Union[_empty_pb2.Empty, _Mapping]] = ..., string_map: _Optional[_Mapping[str, str]] = ..., color_by_id: _Optional[_Mapping[int, Color]] = ..., children_by_name: _Optional[_Mapping[str, Child]] = ..., timestamp_by_flag: _Optional[_Mapping[bool, _timestamp_pb2.Timestamp]] = ..., child: _Optional[_Union[Child, _Mapping]] = ..., children: _Optional[_Iterable[_Union[Child, _Mapping]]] = ..., kitchen: _Optional[_Union[Kitchen, _Mapping]] = ..., choice_text: _Optional[str] = ..., choice_child: _Optional[_Union[Child, _Mapping]] = ..., choice_number: _Optional[int] = ...) -> None: ...
