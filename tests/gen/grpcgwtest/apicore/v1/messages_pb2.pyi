from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Data(_message.Message):
    __slots__ = ("id", "info")
    ID_FIELD_NUMBER: _ClassVar[int]
    INFO_FIELD_NUMBER: _ClassVar[int]
    id: int
    info: str
    def __init__(self, id: _Optional[int] = ..., info: _Optional[str] = ...) -> None: ...

class BodyRequest(_message.Message):
    __slots__ = ("field", "name", "data", "foo")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    FOO_FIELD_NUMBER: _ClassVar[int]
    field: str
    name: str
    data: Data
    foo: str
    def __init__(self, field: _Optional[str] = ..., name: _Optional[str] = ..., data: _Optional[_Union[Data, _Mapping]] = ..., foo: _Optional[str] = ...) -> None: ...

class NestedRequest(_message.Message):
    __slots__ = ("field", "foo")
    class Field(_message.Message):
        __slots__ = ("sub",)
        SUB_FIELD_NUMBER: _ClassVar[int]
        sub: str
        def __init__(self, sub: _Optional[str] = ...) -> None: ...
    FIELD_FIELD_NUMBER: _ClassVar[int]
    FOO_FIELD_NUMBER: _ClassVar[int]
    field: NestedRequest.Field
    foo: str
    def __init__(self, field: _Optional[_Union[NestedRequest.Field, _Mapping]] = ..., foo: _Optional[str] = ...) -> None: ...
