"""The example servicers: PingService, and an in-memory ShelfService."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

import grpc
from example.v1 import ping_pb2, ping_pb2_grpc, shelf_pb2, shelf_pb2_grpc
from google.api import httpbody_pb2
from google.protobuf import duration_pb2, empty_pb2


class PingServicer(ping_pb2_grpc.PingServiceServicer):
    """``GET /v1/ping`` -> ``{"message":"Pong"}``."""

    async def Ping(
        self, request: ping_pb2.PingRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> ping_pb2.PingResponse:
        return ping_pb2.PingResponse(message="Pong")


class SyncPingServicer(ping_pb2_grpc.PingServiceServicer):
    """The same service written for a plain (threaded) ``grpc.server``."""

    def Ping(
        self, request: ping_pb2.PingRequest, context: grpc.ServicerContext
    ) -> ping_pb2.PingResponse:
        return ping_pb2.PingResponse(message="Pong")


class ShelfServicer(shelf_pb2_grpc.ShelfServiceServicer):
    """A small library kept in memory; it echoes what it is given so tests can see it."""

    def __init__(self) -> None:
        self.shelves: dict[str, shelf_pb2.Shelf] = {}
        self.books: dict[str, shelf_pb2.Book] = {}
        self._ids = itertools.count(1)
        #: The last request each method received (tests look at it).
        self.last: dict[str, Any] = {}

    async def CreateShelf(
        self, request: shelf_pb2.CreateShelfRequest, context: Any
    ) -> shelf_pb2.Shelf:
        self.last["CreateShelf"] = request
        shelf = shelf_pb2.Shelf()
        shelf.CopyFrom(request.shelf)
        shelf.name = f"shelves/{request.shelf_id or next(self._ids)}"
        if shelf.name in self.shelves:
            await context.abort(grpc.StatusCode.ALREADY_EXISTS, f"{shelf.name} already exists")
        self.shelves[shelf.name] = shelf
        await context.send_initial_metadata((("x-http-code", "201"),))
        return shelf

    async def GetShelf(self, request: shelf_pb2.GetShelfRequest, context: Any) -> shelf_pb2.Shelf:
        self.last["GetShelf"] = request
        shelf = self.shelves.get(request.name)
        if shelf is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"{request.name} not found")
        return shelf

    async def ListShelves(
        self, request: shelf_pb2.ListShelvesRequest, context: Any
    ) -> shelf_pb2.ListShelvesResponse:
        self.last["ListShelves"] = request
        shelves = [
            s
            for s in self.shelves.values()
            if (not request.genre or s.genre == request.genre)
            and all(t in s.tags for t in request.tags)
        ]
        size = request.page_size or len(shelves)
        return shelf_pb2.ListShelvesResponse(shelves=shelves[:size])

    async def UpdateShelf(
        self, request: shelf_pb2.UpdateShelfRequest, context: Any
    ) -> shelf_pb2.Shelf:
        self.last["UpdateShelf"] = request
        shelf = self.shelves.get(request.shelf.name)
        if shelf is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"{request.shelf.name} not found")
        if request.update_mask.paths:
            request.update_mask.MergeMessage(request.shelf, shelf, replace_repeated_field=True)
        else:
            shelf.CopyFrom(request.shelf)
        return shelf

    async def DeleteShelf(
        self, request: shelf_pb2.DeleteShelfRequest, context: Any
    ) -> empty_pb2.Empty:
        self.last["DeleteShelf"] = request
        if self.shelves.pop(request.name, None) is None and not request.force:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"{request.name} not found")
        return empty_pb2.Empty()

    async def CreateBook(
        self, request: shelf_pb2.CreateBookRequest, context: Any
    ) -> shelf_pb2.Book:
        self.last["CreateBook"] = request
        if request.parent not in self.shelves:
            await context.abort(
                grpc.StatusCode.FAILED_PRECONDITION, f"{request.parent} does not exist"
            )
        book = shelf_pb2.Book()
        book.CopyFrom(request.book)
        book.name = f"{request.parent}/books/{request.book_id or next(self._ids)}"
        self.books[book.name] = book
        return book

    async def GetBook(self, request: shelf_pb2.GetBookRequest, context: Any) -> shelf_pb2.Book:
        self.last["GetBook"] = request
        book = self.books.get(request.name)
        if book is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"{request.name} not found")
        if request.read_mask.paths:
            masked = shelf_pb2.Book()
            request.read_mask.MergeMessage(book, masked)
            return masked
        return book

    async def MoveBook(
        self, request: shelf_pb2.MoveBookRequest, context: Any
    ) -> shelf_pb2.MoveBookResponse:
        self.last["MoveBook"] = request
        book = self.books.pop(request.name, None)
        if book is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"{request.name} not found")
        book.name = f"{request.destination_shelf}/books/{book.name.rsplit('/', 1)[-1]}"
        self.books[book.name] = book
        return shelf_pb2.MoveBookResponse(book=book, took=duration_pb2.Duration(nanos=1500))

    async def DescribeLibrary(
        self, request: empty_pb2.Empty, context: Any
    ) -> shelf_pb2.LibraryInfo:
        info = shelf_pb2.LibraryInfo(shelf_count=len(self.shelves))
        for book in self.books.values():
            genre = shelf_pb2.Genre.Name(book.genre)
            info.books_by_genre[genre] = info.books_by_genre.get(genre, 0) + 1
        return info

    async def WatchShelves(
        self, request: shelf_pb2.ListShelvesRequest, context: Any
    ) -> AsyncIterator[shelf_pb2.Shelf]:
        for shelf in list(self.shelves.values()):
            if not request.genre or shelf.genre == request.genre:
                yield shelf

    async def ImportBooks(
        self, requests: AsyncIterator[shelf_pb2.ImportBookRequest], context: Any
    ) -> shelf_pb2.ImportBooksResponse:
        reply = shelf_pb2.ImportBooksResponse()
        async for request in requests:
            if request.parent not in self.shelves:
                await context.abort(
                    grpc.StatusCode.FAILED_PRECONDITION, f"{request.parent} does not exist"
                )
            book = shelf_pb2.Book()
            book.CopyFrom(request.book)
            book.name = f"{request.parent}/books/{next(self._ids)}"
            self.books[book.name] = book
            reply.imported += 1
            reply.names.append(book.name)
        return reply

    async def UploadCover(
        self, request: shelf_pb2.UploadCoverRequest, context: Any
    ) -> shelf_pb2.Book:
        book = self.books.get(request.name)
        if book is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"{request.name} not found")
        book.cover = request.cover.data
        book.cover_type = request.cover.content_type
        return book

    async def DownloadCover(
        self, request: shelf_pb2.GetBookRequest, context: Any
    ) -> httpbody_pb2.HttpBody:
        book = self.books.get(request.name)
        if book is None or not book.cover:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"{request.name} has no cover")
        return httpbody_pb2.HttpBody(content_type=book.cover_type, data=book.cover)

    async def Audit(self, request: empty_pb2.Empty, context: Any) -> empty_pb2.Empty:
        self.last["Audit"] = request
        return empty_pb2.Empty()


__all__ = ["PingServicer", "ShelfServicer", "SyncPingServicer"]
