"""The servicer: plain Python, no grpcgw."""

from __future__ import annotations

import grpc
import idna  # from requirements.txt
from bookshop.v1 import bookshop_pb2, bookshop_pb2_grpc


class BookshopServicer(bookshop_pb2_grpc.BookshopServiceServicer):
    def __init__(self) -> None:
        self.books = {("fiction", 1): bookshop_pb2.Book(shelf="fiction", id=1, title="Dune")}

    def GetBook(self, request, context):
        book = self.books.get((request.shelf, request.id))
        if book is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"no book {request.id} on {request.shelf}")
        return book

    def CreateBook(self, request, context):
        book = bookshop_pb2.Book()
        book.CopyFrom(request.book)
        book.shelf = request.shelf
        book.id = max((i for s, i in self.books if s == request.shelf), default=0) + 1
        self.books[(book.shelf, book.id)] = book
        return book

    def GetAddress(self, request, context):
        host = request.host or "bücher.example"
        return bookshop_pb2.Address(host=host, ascii_host=idna.encode(host).decode("ascii"))
