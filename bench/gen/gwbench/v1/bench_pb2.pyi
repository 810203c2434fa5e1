import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
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
    KIND_BOOK: _ClassVar[Kind]
    KIND_ARTICLE: _ClassVar[Kind]
    KIND_REPORT: _ClassVar[Kind]
KIND_UNSPECIFIED: Kind
KIND_BOOK: Kind
KIND_ARTICLE: Kind
KIND_REPORT: Kind

class PingRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PingResponse(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: str
    def __init__(self, message: _Optional[str] = ...) -> None: ...

class Author(_message.Message):
    __slots__ = ("display_name", "email", "year_of_birth")
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    YEAR_OF_BIRTH_FIELD_NUMBER: _ClassVar[int]
    display_name: str
    email: str
    year_of_birth: int
    def __init__(self, display_name: _Optional[str] = ..., email: _Optional[str] = ..., year_of_birth: _Optional[int] = ...) -> None: ...

class Record(_message.Message):
    __slots__ = ("name", "title", "description", "id", "size_bytes", "score", "published", "kind", "tags", "revision_ids", "author", "reviewers", "create_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    REVISION_IDS_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_FIELD_NUMBER: _ClassVar[int]
    REVIEWERS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    title: str
    description: str
    id: int
    size_bytes: int
    score: float
    published: bool
    kind: Kind
    tags: _containers.RepeatedScalarFieldContainer[str]
    revision_ids: _containers.RepeatedScalarFieldContainer[int]
    author: Author
    reviewers: _containers.RepeatedCompositeFieldContainer[Author]
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., id: _Optional[int] = ..., size_bytes: _Optional[int] = ..., score: _Optional[float] = ..., published: _Optional[bool] = ..., kind: _Optional[_Union[Kind, str]] = ..., tags: _Optional[_Iterable[str]] = ..., revision_ids: _Optional[_Iterable[int]] = ..., author: _Optional[_Union[Author, _Mapping]] = ..., reviewers: _Optional[_Iterable[_Union[Author, _Mapping]]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
