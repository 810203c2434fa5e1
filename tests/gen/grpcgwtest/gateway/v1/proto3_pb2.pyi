import datetime

from google.protobuf import duration_pb2 as _duration_pb2
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

class EnumValue(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    X: _ClassVar[EnumValue]
    Y: _ClassVar[EnumValue]
    Z: _ClassVar[EnumValue]
X: EnumValue
Y: EnumValue
Z: EnumValue

class Proto3Message(_message.Message):
    __slots__ = ("nested", "float_value", "double_value", "int64_value", "int32_value", "uint64_value", "uint32_value", "bool_value", "string_value", "bytes_value", "repeated_value", "repeated_message", "enum_value", "repeated_enum", "timestamp_value", "duration_value", "fieldmask_value", "optional_value", "oneof_bool_value", "oneof_string_value", "nested_oneof_value_one", "nested_oneof_int32_value", "wrapper_double_value", "wrapper_float_value", "wrapper_int64_value", "wrapper_int32_value", "wrapper_u_int64_value", "wrapper_u_int32_value", "wrapper_bool_value", "wrapper_string_value", "wrapper_bytes_value", "map_value", "map_value2", "map_value3", "map_value4", "map_value5", "map_value6", "map_value7", "map_value8", "map_value9", "map_value10", "map_value12", "map_value14", "map_value15", "map_value16", "struct_value_value", "struct_value")
    class MapValueEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class MapValue2Entry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class MapValue3Entry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: str
        def __init__(self, key: _Optional[int] = ..., value: _Optional[str] = ...) -> None: ...
    class MapValue4Entry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class MapValue5Entry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: str
        def __init__(self, key: _Optional[int] = ..., value: _Optional[str] = ...) -> None: ...
    class MapValue6Entry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class MapValue7Entry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: str
        def __init__(self, key: _Optional[int] = ..., value: _Optional[str] = ...) -> None: ...
    class MapValue8Entry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class MapValue9Entry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: str
        def __init__(self, key: _Optional[int] = ..., value: _Optional[str] = ...) -> None: ...
    class MapValue10Entry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    class MapValue12Entry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    class MapValue14Entry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: bool
        def __init__(self, key: _Optional[str] = ..., value: _Optional[bool] = ...) -> None: ...
    class MapValue15Entry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: bool
        value: str
        def __init__(self, key: _Optional[bool] = ..., value: _Optional[str] = ...) -> None: ...
    class MapValue16Entry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _wrappers_pb2.UInt64Value
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_wrappers_pb2.UInt64Value, _Mapping]] = ...) -> None: ...
    NESTED_FIELD_NUMBER: _ClassVar[int]
    FLOAT_VALUE_FIELD_NUMBER: _ClassVar[int]
    DOUBLE_VALUE_FIELD_NUMBER: _ClassVar[int]
    INT64_VALUE_FIELD_NUMBER: _ClassVar[int]
    INT32_VALUE_FIELD_NUMBER: _ClassVar[int]
    UINT64_VALUE_FIELD_NUMBER: _ClassVar[int]
    UINT32_VALUE_FIELD_NUMBER: _ClassVar[int]
    BOOL_VALUE_FIELD_NUMBER: _ClassVar[int]
    STRING_VALUE_FIELD_NUMBER: _ClassVar[int]
    BYTES_VALUE_FIELD_NUMBER: _ClassVar[int]
    REPEATED_VALUE_FIELD_NUMBER: _ClassVar[int]
    REPEATED_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ENUM_VALUE_FIELD_NUMBER: _ClassVar[int]
    REPEATED_ENUM_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_VALUE_FIELD_NUMBER: _ClassVar[int]
    DURATION_VALUE_FIELD_NUMBER: _ClassVar[int]
    FIELDMASK_VALUE_FIELD_NUMBER: _ClassVar[int]
    OPTIONAL_VALUE_FIELD_NUMBER: _ClassVar[int]
    ONEOF_BOOL_VALUE_FIELD_NUMBER: _ClassVar[int]
    ONEOF_STRING_VALUE_FIELD_NUMBER: _ClassVar[int]
    NESTED_ONEOF_VALUE_ONE_FIELD_NUMBER: _ClassVar[int]
    NESTED_ONEOF_INT32_VALUE_FIELD_NUMBER: _ClassVar[int]
    WRAPPER_DOUBLE_VALUE_FIELD_NUMBER: _ClassVar[int]
    WRAPPER_FLOAT_VALUE_FIELD_NUMBER: _ClassVar[int]
    WRAPPER_INT64_VALUE_FIELD_NUMBER: _ClassVar[int]
    WRAPPER_INT32_VALUE_FIELD_NUMBER: _ClassVar[int]
    WRAPPER_U_INT64_VALUE_FIELD_NUMBER: _ClassVar[int]
    WRAPPER_U_INT32_VALUE_FIELD_NUMBER: _ClassVar[int]
    WRAPPER_BOOL_VALUE_FIELD_NUMBER: _ClassVar[int]
    WRAPPER_STRING_VALUE_FIELD_NUMBER: _ClassVar[int]
    WRAPPER_BYTES_VALUE_FIELD_NUMBER: _ClassVar[int]
    MAP_VALUE_FIELD_NUMBER: _ClassVar[int]
    MAP_VALUE2_FIELD_NUMBER: _ClassVar[int]
    MAP_VALUE3_FIELD_NUMBER: _ClassVar[int]
    MAP_VALUE4_FIELD_NUMBER: _ClassVar[int]
    MAP_VALUE5_FIELD_NUMBER: _ClassVar[int]
    MAP_VALUE6_FIELD_NUMBER: _ClassVar[int]
    MAP_VALUE7_FIELD_NUMBER: _ClassVar[int]
    MAP_VALUE8_FIELD_NUMBER: _ClassVar[int]
    MAP_VALUE9_FIELD_NUMBER: _ClassVar[int]
    MAP_VALUE10_FIELD_NUMBER: _ClassVar[int]
    MAP_VALUE12_FIELD_NUMBER: _ClassVar[int]
    MAP_VALUE14_FIELD_NUMBER: _ClassVar[int]
    MAP_VALUE15_FIELD_NUMBER: _ClassVar[int]
    MAP_VALUE16_FIELD_NUMBER: _ClassVar[int]
    STRUCT_VALUE_VALUE_FIELD_NUMBER: _ClassVar[int]
    STRUCT_VALUE_FIELD_NUMBER: _ClassVar[int]
    nested: Proto3Message
    float_value: float
    double_value: float
    int64_value: int
    int32_value: int
    uint64_value: int
    uint32_value: int
    bool_value: bool
    string_value: str
    bytes_value: bytes
    repeated_value: _containers.RepeatedScalarFieldContainer[str]
    repeated_message: _containers.RepeatedCompositeFieldContainer[_wrappers_pb2.UInt64Value]
    enum_value: EnumValue
    repeated_enum: _containers.RepeatedScalarFieldContainer[EnumValue]
    timestamp_value: _timestamp_pb2.Timestamp
    duration_value: _duration_pb2.Duration
    fieldmask_value: _field_mask_pb2.FieldMask
    optional_value: str
    oneof_bool_value: bool
    oneof_string_value: str
    nested_oneof_value_one: Proto3Message
    nested_oneof_int32_value: int
    wrapper_double_value: _wrappers_pb2.DoubleValue
    wrapper_float_value: _wrappers_pb2.FloatValue
    wrapper_int64_value: _wrappers_pb2.Int64Value
    wrapper_int32_value: _wrappers_pb2.Int32Value
    wrapper_u_int64_value: _wrappers_pb2.UInt64Value
    wrapper_u_int32_value: _wrappers_pb2.UInt32Value
    wrapper_bool_value: _wrappers_pb2.BoolValue
    wrapper_string_value: _wrappers_pb2.StringValue
    wrapper_bytes_value: _wrappers_pb2.BytesValue
    map_value: _containers.ScalarMap[str, str]
    map_value2: _containers.ScalarMap[str, int]
    map_value3: _containers.ScalarMap[int, str]
    map_value4: _containers.ScalarMap[str, int]
    map_value5: _containers.ScalarMap[int, str]
    map_value6: _containers.ScalarMap[str, int]
    map_value7: _containers.ScalarMap[int, str]
    map_value8: _containers.ScalarMap[str, int]
    map_value9: _containers.ScalarMap[int, str]
    map_value10: _containers.ScalarMap[str, float]
    map_value12: _containers.ScalarMap[str, float]
    map_value14: _containers.ScalarMap[str, bool]
    map_value15: _containers.ScalarMap[bool, str]
    map_value16: _containers.MessageMap[str, _wrappers_pb2.UInt64Value]
    struct_value_value: _struct_pb2.Value
    struct_value: _struct_pb2.Struct
    def __init__(self, nested: _Optional[_Union[Proto3Message, _Mapping]] = ..., float_value: _Optional[float] = ..., double_value: _Optional[float] = ..., int64_value: _Optional[int] = ..., int32_value: _Optional[int] = ..., uint64_value: _Optional[int] = ..., uint32_value: _Optional[int] = ..., bool_value: _Optional[bool] = ..., string_value: _Optional[str] = ..., bytes_value: _Optional[bytes] = ..., repeated_value: _Optional[_Iterable[str]] = ..., repeated_message: _Optional[_Iterable[_Union[_wrappers_pb2.UInt64Value, _Mapping]]] = ..., enum_value: _Optional[_Union[EnumValue, str]] = ..., repeated_enum: _Optional[_Iterable[_Union[EnumValue, str]]] = ..., timestamp_value: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., duration_value: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., fieldmask_value: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ..., optional_value: _Optional[str] = ..., oneof_bool_value: _Optional[bool] = ..., oneof_string_value: _Optional[str] = ..., nested_oneof_value_one: _Optional[_Union[Proto3Message, _Mapping]] = ..., nested_oneof_int32_value: _Optional[int] = ..., wrapper_double_value: _Optional[_Union[_wrappers_pb2.DoubleValue, _Mapping]] = ..., wrapper_float_value: _Optional[_Union[_wrappers_pb2.FloatValue, _Mapping]] = ..., wrapper_int64_value: _Optional[_Union[_wrappers_pb2.Int64Value, _Mapping]] = ..., wrapper_int32_value: _Optional[_Union[_wrappers_pb2.Int32Value, _Mapping]] = ..., wrapper_u_int64_value: _Optional[_Union[_wrappers_pb2.UInt64Value, _Mapping]] = ..., wrapper_u_int32_value: _Optional[_Union[_wrappers_pb2.UInt32Value, _Mapping]] = ..., wrapper_bool_value: _Optional[_Union[_wrappers_pb2.BoolValue, _Mapping]] = ..., wrapper_string_value: _Optional[_Union[_wrappers_pb2.StringValue, _Mapping]] = ..., wrapper_bytes_value: _Optional[_Union[_wrappers_pb2.BytesValue, _Mapping]] = ..., map_value: _Optional[_Mapping[str, str]] = ..., map_value2: _Optional[_Mapping[str, int]] = ..., map_value3: _Optional[_Mapping[int, str]] = ..., map_value4: _Optional[_Mapping[str, int]] = ..., map_value5: _Optional[_Mapping[int, str]] = ..., map_value6: _Optional[_Mapping[str, int]] = ..., map_value7: _Optional[_Mapping[int, str]] = ..., map_value8: _Optional[_Mapping[str, int]] = ..., map_value9: _Optional[_Mapping[int, str]] = ..., map_value10: _Optional[_Mapping[str, float]] = ..., map_value12: _Optional[_Mapping[str, float]] = ..., map_value14: _Optional[_Mapping[str, bool]] = ..., map_value15: _Optional[_Mapping[bool, str]] = ..., map_value16: _Optional[_Mapping[str, _wrappers_pb2.UInt64Value]] = ..., struct_value_value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., struct_value: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...
