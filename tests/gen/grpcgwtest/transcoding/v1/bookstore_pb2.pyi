from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Biography(_message.Message):
    __slots__ = ("year_born", "year_died", "text")
    YEAR_BORN_FIELD_NUMBER: _ClassVar[int]
    YEAR_DIED_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    year_born: int
    year_died: int
    text: str
    def __init__(self, year_born: _Optional[int] = ..., year_died: _Optional[int] = ..., text: _Optional[str] = ...) -> None: ...

class AuthorInfo(_message.Message):
    __slots__ = ("first_name", "last_name", "bio")
    FIRST_NAME_FIELD_NUMBER: _ClassVar[int]
    LAST_NAME_FIELD_NUMBER: _ClassVar[int]
    BIO_FIELD_NUMBER: _ClassVar[int]
    first_name: str
    last_name: str
    bio: Biography
    def __init__(self, first_name: _Optional[str] = ..., last_name: _Optional[str] = ..., bio: _Optional[_Union[Biography, _Mapping]] = ...) -> None: ...

class Book(_message.Message):
    __slots__ = ("author", "name", "title", "author_info")
    AUTHOR_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_INFO_FIELD_NUMBER: _ClassVar[int]
    author: str
    name: str
    title: str
    author_info: AuthorInfo
    def __init__(self, author: _Optional[str] = ..., name: _Optional[str] = ..., title: _Optional[str] = ..., author_info: _Optional[_Union[AuthorInfo, _Mapping]] = ...) -> None: ...

class Shelf(_message.Message):
    __slots__ = ("name", "theme", "type")
    class TYPE(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        CLASSIC: _ClassVar[Shelf.TYPE]
        COMIC: _ClassVar[Shelf.TYPE]
        HORROR: _ClassVar[Shelf.TYPE]
        OTHER: _ClassVar[Shelf.TYPE]
    CLASSIC: Shelf.TYPE
    COMIC: Shelf.TYPE
    HORROR: Shelf.TYPE
    OTHER: Shelf.TYPE
    NAME_FIELD_NUMBER: _ClassVar[int]
    THEME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    name: str
    theme: str
    type: Shelf.TYPE
    def __init__(self, name: _Optional[str] = ..., theme: _Optional[str] = ..., type: _Optional[_Union[Shelf.TYPE, str]] = ...) -> None: ...

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
