from google.api import annotations_pb2 as _annotations_pb2
from google.api import httpbody_pb2 as _httpbody_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CountRequest(_message.Message):
    __slots__ = ("n", "fail_at", "hold")
    N_FIELD_NUMBER: _ClassVar[int]
    FAIL_AT_FIELD_NUMBER: _ClassVar[int]
    HOLD_FIELD_NUMBER: _ClassVar[int]
    n: int
    fail_at: int
    hold: bool
    def __init__(self, n: _Optional[int] = ..., fail_at: _Optional[int] = ..., hold: _Optional[bool] = ...) -> None: ...

class Num(_message.Message):
    __slots__ = ("value",)
    VALUE_FIELD_NUMBER: _ClassVar[int]
    value: int
    def __init__(self, value: _Optional[int] = ...) -> None: ...

class StoreRequest(_message.Message):
    __slots__ = ("name", "file", "tag")
    NAME_FIELD_NUMBER: _ClassVar[int]
    FILE_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    name: str
    file: _httpbody_pb2.HttpBody
    tag: str
    def __init__(self, name: _Optional[str] = ..., file: _Optional[_Union[_httpbody_pb2.HttpBody, _Mapping]] = ..., tag: _Optional[str] = ...) -> None: ...
