from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StringFixture(_message.Message):
    __slots__ = ("x", "y", "z")
    X_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    Z_FIELD_NUMBER: _ClassVar[int]
    x: str
    y: str
    z: str
    def __init__(self, x: _Optional[str] = ..., y: _Optional[str] = ..., z: _Optional[str] = ...) -> None: ...

class WeaverFixture(_message.Message):
    __slots__ = ("A",)
    class Inner(_message.Message):
        __slots__ = ("int64_field", "uint64_field", "float_field", "double_field", "x")
        INT64_FIELD_FIELD_NUMBER: _ClassVar[int]
        UINT64_FIELD_FIELD_NUMBER: _ClassVar[int]
        FLOAT_FIELD_FIELD_NUMBER: _ClassVar[int]
        DOUBLE_FIELD_FIELD_NUMBER: _ClassVar[int]
        X_FIELD_NUMBER: _ClassVar[int]
        int64_field: int
        uint64_field: int
        float_field: float
        double_field: float
        x: str
        def __init__(self, int64_field: _Optional[int] = ..., uint64_field: _Optional[int] = ..., float_field: _Optional[float] = ..., double_field: _Optional[float] = ..., x: _Optional[str] = ...) -> None: ...
    A_FIELD_NUMBER: _ClassVar[int]
    A: WeaverFixture.Inner
    def __init__(self, A: _Optional[_Union[WeaverFixture.Inner, _Mapping]] = ...) -> None: ...

class WeaverRepeatedFixture(_message.Message):
    __slots__ = ("A",)
    class Inner(_message.Message):
        __slots__ = ("x",)
        X_FIELD_NUMBER: _ClassVar[int]
        x: _containers.RepeatedScalarFieldContainer[str]
        def __init__(self, x: _Optional[_Iterable[str]] = ...) -> None: ...
    A_FIELD_NUMBER: _ClassVar[int]
    A: WeaverRepeatedFixture.Inner
    def __init__(self, A: _Optional[_Union[WeaverRepeatedFixture.Inner, _Mapping]] = ...) -> None: ...
