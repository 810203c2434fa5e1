from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Shelf(_message.Message):
    __slots__ = ("id", "theme")
    ID_FIELD_NUMBER: _ClassVar[int]
    THEME_FIELD_NUMBER: _ClassVar[int]
    id: int
    theme: str
    def __init__(self, id: _Optional[int] = ..., theme: _Optional[str] = ...) -> None: ...

class Book(_message.Message):
    __slots__ = ("id", "author", "title", "quotes")
    ID_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    QUOTES_FIELD_NUMBER: _ClassVar[int]
    id: int
    author: str
    title: str
    quotes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[int] = ..., author: _Optional[str] = ..., title: _Optional[str] = ..., quotes: _Optional[_Iterable[str]] = ...) -> None: ...

class CreateShelfRequest(_message.Message):
    __slots__ = ("shelf",)
    SHELF_FIELD_NUMBER: _ClassVar[int]
    shelf: Shelf
    def __init__(self, shelf: _Optional[_Union[Shelf, _Mapping]] = ...) -> None: ...

class GetShelfRequest(_message.Message):
    __slots__ = ("shelf",)
    SHELF_FIELD_NUMBER: _ClassVar[int]
    shelf: int
    def __init__(self, shelf: _Optional[int] = ...) -> None: ...

class CreateBookRequest(_message.Message):
    __slots__ = ("shelf", "book")
    SHELF_FIELD_NUMBER: _ClassVar[int]
    BOOK_FIELD_NUMBER: _ClassVar[int]
    shelf: int
    book: Book
    def __init__(self, shelf: _Optional[int] = ..., book: _Optional[_Union[Book, _Mapping]] = ...) -> None: ...

class UpdateBookRequest(_message.Message):
    __slots__ = ("shelf", "book")
    SHELF_FIELD_NUMBER: _ClassVar[int]
    BOOK_FIELD_NUMBER: _ClassVar[int]
    shelf: int
    book: Book
    def __init__(self, shelf: _Optional[int] = ..., book: _Optional[_Union[Book, _Mapping]] = ...) -> None: ...
