import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.api import httpbody_pb2 as _httpbody_pb2
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

class Genre(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GENRE_UNSPECIFIED: _ClassVar[Genre]
    GENRE_FICTION: _ClassVar[Genre]
    GENRE_HISTORY: _ClassVar[Genre]
    GENRE_SCIENCE: _ClassVar[Genre]
GENRE_UNSPECIFIED: Genre
GENRE_FICTION: Genre
GENRE_HISTORY: Genre
GENRE_SCIENCE: Genre

class Shelf(_message.Message):
    __slots__ = ("name", "theme", "genre", "book_count", "tags", "create_time", "location")
    NAME_FIELD_NUMBER: _ClassVar[int]
    THEME_FIELD_NUMBER: _ClassVar[int]
    GENRE_FIELD_NUMBER: _ClassVar[int]
    BOOK_COUNT_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    name: str
    theme: str
    genre: Genre
    book_count: int
    tags: _containers.RepeatedScalarFieldContainer[str]
    create_time: _timestamp_pb2.Timestamp
    location: Location
    def __init__(self, name: _Optional[str] = ..., theme: _Optional[str] = ..., genre: _Optional[_Union[Genre, str]] = ..., book_count: _Optional[int] = ..., tags: _Optional[_Iterable[str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., location: _Optional[_Union[Location, _Mapping]] = ...) -> None: ...

class Location(_message.Message):
    __slots__ = ("floor", "room")
    FLOOR_FIELD_NUMBER: _ClassVar[int]
    ROOM_FIELD_NUMBER: _ClassVar[int]
    floor: int
    room: str
    def __init__(self, floor: _Optional[int] = ..., room: _Optional[str] = ...) -> None: ...

class Book(_message.Message):
    __slots__ = ("name", "title", "author", "genre", "page_count", "quotes", "publish_time", "read_time", "rating", "cover", "cover_type")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_FIELD_NUMBER: _ClassVar[int]
    GENRE_FIELD_NUMBER: _ClassVar[int]
    PAGE_COUNT_FIELD_NUMBER: _ClassVar[int]
    QUOTES_FIELD_NUMBER: _ClassVar[int]
    PUBLISH_TIME_FIELD_NUMBER: _ClassVar[int]
    READ_TIME_FIELD_NUMBER: _ClassVar[int]
    RATING_FIELD_NUMBER: _ClassVar[int]
    COVER_FIELD_NUMBER: _ClassVar[int]
    COVER_TYPE_FIELD_NUMBER: _ClassVar[int]
    name: str
    title: str
    author: str
    genre: Genre
    page_count: int
    quotes: _containers.RepeatedScalarFieldContainer[str]
    publish_time: _timestamp_pb2.Timestamp
    read_time: _duration_pb2.Duration
    rating: _wrappers_pb2.DoubleValue
    cover: bytes
    cover_type: str
    def __init__(self, name: _Optional[str] = ..., title: _Optional[str] = ..., author: _Optional[str] = ..., genre: _Optional[_Union[Genre, str]] = ..., page_count: _Optional[int] = ..., quotes: _Optional[_Iterable[str]] = ..., publish_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., read_time: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., rating: _Optional[_Union[_wrappers_pb2.DoubleValue, _Mapping]] = ..., cover: _Optional[bytes] = ..., cover_type: _Optional[str] = ...) -> None: ...

class CreateShelfRequest(_message.Message):
    __slots__ = ("shelf", "shelf_id")
    SHELF_FIELD_NUMBER: _ClassVar[int]
    SHELF_ID_FIELD_NUMBER: _ClassVar[int]
    shelf: Shelf
    shelf_id: str
    def __init__(self, shelf: _Optional[_Union[Shelf, _Mapping]] = ..., shelf_id: _Optional[str] = ...) -> None: ...

class GetShelfRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListShelvesRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "genre", "tags", "created_after", "min_books", "location")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    GENRE_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AFTER_FIELD_NUMBER: _ClassVar[int]
    MIN_BOOKS_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    genre: Genre
    tags: _containers.RepeatedScalarFieldContainer[str]
    created_after: _timestamp_pb2.Timestamp
    min_books: _wrappers_pb2.Int64Value
    location: Location
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., genre: _Optional[_Union[Genre, str]] = ..., tags: _Optional[_Iterable[str]] = ..., created_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., min_books: _Optional[_Union[_wrappers_pb2.Int64Value, _Mapping]] = ..., location: _Optional[_Union[Location, _Mapping]] = ...) -> None: ...

class ListShelvesResponse(_message.Message):
    __slots__ = ("shelves", "next_page_token")
    SHELVES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    shelves: _containers.RepeatedCompositeFieldContainer[Shelf]
    next_page_token: str
    def __init__(self, shelves: _Optional[_Iterable[_Union[Shelf, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateShelfRequest(_message.Message):
    __slots__ = ("shelf", "update_mask")
    SHELF_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    shelf: Shelf
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, shelf: _Optional[_Union[Shelf, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class DeleteShelfRequest(_message.Message):
    __slots__ = ("name", "force")
    NAME_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    name: str
    force: bool
    def __init__(self, name: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...

class CreateBookRequest(_message.Message):
    __slots__ = ("parent", "book", "book_id")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    BOOK_FIELD_NUMBER: _ClassVar[int]
    BOOK_ID_FIELD_NUMBER: _ClassVar[int]
    parent: str
    book: Book
    book_id: str
    def __init__(self, parent: _Optional[str] = ..., book: _Optional[_Union[Book, _Mapping]] = ..., book_id: _Optional[str] = ...) -> None: ...

class GetBookRequest(_message.Message):
    __slots__ = ("name", "read_mask")
    NAME_FIELD_NUMBER: _ClassVar[int]
    READ_MASK_FIELD_NUMBER: _ClassVar[int]
    name: str
    read_mask: _field_mask_pb2.FieldMask
    def __init__(self, name: _Optional[str] = ..., read_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class MoveBookRequest(_message.Message):
    __slots__ = ("name", "destination_shelf")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_SHELF_FIELD_NUMBER: _ClassVar[int]
    name: str
    destination_shelf: str
    def __init__(self, name: _Optional[str] = ..., destination_shelf: _Optional[str] = ...) -> None: ...

class MoveBookResponse(_message.Message):
    __slots__ = ("book", "took")
    BOOK_FIELD_NUMBER: _ClassVar[int]
    TOOK_FIELD_NUMBER: _ClassVar[int]
    book: Book
    took: _duration_pb2.Duration
    def __init__(self, book: _Optional[_Union[Book, _Mapping]] = ..., took: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class LibraryInfo(_message.Message):
    __slots__ = ("shelf_count", "books_by_genre")
    class BooksByGenreEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    SHELF_COUNT_FIELD_NUMBER: _ClassVar[int]
    BOOKS_BY_GENRE_FIELD_NUMBER: _ClassVar[int]
    shelf_count: int
    books_by_genre: _containers.ScalarMap[str, int]
    def __init__(self, shelf_count: _Optional[int] = ..., books_by_genre: _Optional[_Mapping[str, int]] = ...) -> None: ...

class ImportBookRequest(_message.Message):
    __slots__ = ("parent", "book")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    BOOK_FIELD_NUMBER: _ClassVar[int]
    parent: str
    book: Book
    def __init__(self, parent: _Optional[str] = ..., book: _Optional[_Union[Book, _Mapping]] = ...) -> None: ...

class ImportBooksResponse(_message.Message):
    __slots__ = ("imported", "names")
    IMPORTED_FIELD_NUMBER: _ClassVar[int]
    NAMES_FIELD_NUMBER: _ClassVar[int]
    imported: int
    names: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, imported: _Optional[int] = ..., names: _Optional[_Iterable[str]] = ...) -> None: ...

class UploadCoverRequest(_message.Message):
    __slots__ = ("name", "cover")
    NAME_FIELD_NUMBER: _ClassVar[int]
    COVER_FIELD_NUMBER: _ClassVar[int]
    name: str
    cover: _httpbody_pb2.HttpBody
    def __init__(self, name: _Optional[str] = ..., cover: _Optional[_Union[_httpbody_pb2.HttpBody, _Mapping]] = ...) -> None: ...
