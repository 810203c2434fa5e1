from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EchoRequest(_message.Message):
    __slots__ = ("name", "parameter1", "parameter2", "multi_value_name", "test", "key", "my_key", "payload")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PARAMETER1_FIELD_NUMBER: _ClassVar[int]
    PARAMETER2_FIELD_NUMBER: _ClassVar[int]
    MULTI_VALUE_NAME_FIELD_NUMBER: _ClassVar[int]
    TEST_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    MY_KEY_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    name: str
    parameter1: _containers.RepeatedScalarFieldContainer[str]
    parameter2: str
    multi_value_name: _containers.RepeatedScalarFieldContainer[str]
    test: _containers.RepeatedScalarFieldContainer[str]
    key: str
    my_key: _containers.RepeatedScalarFieldContainer[str]
    payload: _struct_pb2.Value
    def __init__(self, name: _Optional[str] = ..., parameter1: _Optional[_Iterable[str]] = ..., parameter2: _Optional[str] = ..., multi_value_name: _Optional[_Iterable[str]] = ..., test: _Optional[_Iterable[str]] = ..., key: _Optional[str] = ..., my_key: _Optional[_Iterable[str]] = ..., payload: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class EchoResponse(_message.Message):
    __slots__ = ("request", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    request: EchoRequest
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, request: _Optional[_Union[EchoRequest, _Mapping]] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...
