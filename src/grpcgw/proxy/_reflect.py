"""A gRPC server reflection client: the services a server lists, and their files.

Asks ``grpc.reflection.v1`` first and falls back to ``grpc.reflection.v1alpha``
when the server does not implement it (grpcio-reflection, older Go and Java
servers). The two protocols have the same messages field for field, so one
pair of message classes (grpcio-reflection's) reads and writes both.

One stream carries the whole conversation, with requests sent in batches
rather than one at a time: list the services; the file of each service to
look at (servers answer with it and the files it imports, all or those not
sent yet on this stream); then any import still missing, by file name.

The conversation runs on grpcio's blocking API, in a worker thread. grpc.aio
cannot be trusted with the probe of v1: a write that races a server's
immediate UNIMPLEMENTED fails the call with ``INTERNAL: Internal error from
Core`` instead of the server's status (grpc/grpc#36066, some 15 % of probes
here), which would turn "try v1alpha" into a failure at random.
"""

from __future__ import annotations

import asyncio
import queue
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

import grpc
from google.protobuf import descriptor_pb2
from google.protobuf.message import DecodeError
from grpc_reflection.v1alpha import reflection_pb2

from grpcgw.channel import open_blocking_channel
from grpcgw.proxy._files import INFRASTRUCTURE, DescriptorError

if TYPE_CHECKING:
    from grpcgw.channel import TLSConfig

V1: Final = "grpc.reflection.v1.ServerReflection"
V1ALPHA: Final = "grpc.reflection.v1alpha.ServerReflection"
#: Descriptor responses of a large API exceed gRPC's default 4 MiB.
_MAX_RECEIVE: Final = 64 * 1024 * 1024

# grpcio-reflection has no type information: its messages are Any to mypy.
_Request: Any = reflection_pb2.ServerReflectionRequest
_Response: Any = reflection_pb2.ServerReflectionResponse


class ReflectionResult:
    """What a server told: the services it lists, their files, and which protocol it spoke."""

    __slots__ = ("files", "protocol", "services")

    def __init__(
        self,
        services: list[str],
        files: list[descriptor_pb2.FileDescriptorProto],
        protocol: str,
    ) -> None:
        self.services = services
        self.files = files
        self.protocol = protocol


class _Stream:
    """One reflection stream: send a batch of requests, read one answer for each."""

    def __init__(self, channel: grpc.Channel, protocol: str, timeout: float, where: str) -> None:
        #: Whether the server answered anything on this stream.
        self.answered = False
        self._requests: queue.SimpleQueue[Any] = queue.SimpleQueue()
        method = channel.stream_stream(
            f"/{protocol}/ServerReflectionInfo",
            request_serializer=_Request.SerializeToString,
            response_deserializer=_Response.FromString,
        )
        self._call: Any = method(
            iter(self._requests.get, None), timeout=timeout, wait_for_ready=True
        )
        self._where = where

    def ask(self, requests: Sequence[Any]) -> list[Any]:
        for request in requests:
            self._requests.put(request)
        answers: list[Any] = []
        for _ in requests:
            answer = next(self._call, None)
            if answer is None:
                raise DescriptorError(f"{self._where} ended the reflection stream early")
            self.answered = True
            answers.append(answer)
        return answers

    def close(self) -> None:
        self._requests.put(None)  # half-close
        self._call.cancel()


class _Reflection:
    """One fetch, on a worker thread; :meth:`cancel` ends it from another."""

    def __init__(
        self,
        target: str,
        wanted: Sequence[str],
        tls: TLSConfig | None,
        channel_options: Sequence[tuple[str, Any]],
        timeout: float,
    ) -> None:
        self.where = f"the gRPC server at {target}"
        self._wanted = wanted
        self._timeout = timeout
        options = [("grpc.max_receive_message_length", _MAX_RECEIVE), *channel_options]
        self._channel = open_blocking_channel(target, tls=tls, options=options)
        #: Whether the server answered anything yet (a server that did is reachable).
        self._answered = False

    def cancel(self) -> None:
        self._channel.close()

    def run(self) -> ReflectionResult:
        deadline = time.monotonic() + self._timeout
        try:
            for protocol in (V1, V1ALPHA):
                remaining = max(deadline - time.monotonic(), 0.001)
                stream = _Stream(self._channel, protocol, remaining, self.where)
                try:
                    return _converse(stream, protocol, self._wanted, self.where)
                except grpc.RpcError as exc:
                    code = exc.code()
                    if code == grpc.StatusCode.UNIMPLEMENTED:
                        self._answered = True  # with a status, but an answer
                        continue  # try the older protocol
                    self._answered = self._answered or stream.answered
                    raise self._failure(code, exc.details() or "") from None
                finally:
                    stream.close()
            raise DescriptorError(
                f"{self.where} does not serve reflection (neither grpc.reflection.v1 nor "
                "v1alpha): turn reflection on in the server, or give a descriptor set "
                "(protoc --descriptor_set_out --include_imports)"
            )
        finally:
            self._channel.close()

    def _failure(self, code: grpc.StatusCode, details: str) -> DescriptorError:
        # (No connectivity watch: grpcio's polls, and closing the channel then waits
        # for its next poll, 200 ms.)
        if code in (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNAVAILABLE):
            if not self._answered:
                return DescriptorError(f"cannot reach {self.where} within {self._timeout:g} s")
            if code == grpc.StatusCode.DEADLINE_EXCEEDED:
                return DescriptorError(
                    f"{self.where} did not answer reflection within {self._timeout:g} s"
                )
        text = " ".join(str(details or "").split())  # one line
        return DescriptorError(f"{self.where}: reflection failed: {code.name}: {text}")


async def fetch(
    target: str,
    *,
    wanted: Sequence[str] = (),
    tls: TLSConfig | None = None,
    channel_options: Sequence[tuple[str, Any]] = (),
    timeout: float = 10.0,  # noqa: ASYNC109  (it is the gRPC deadline too)
) -> ReflectionResult:
    """Ask the server at ``target`` for its services and the files of the ``wanted``
    ones (every listed one if none is named), waiting at most ``timeout`` seconds
    in all, for the connection too. Raises :class:`DescriptorError`."""
    reflection = _Reflection(target, wanted, tls, channel_options, timeout)
    try:
        return await asyncio.to_thread(reflection.run)
    except asyncio.CancelledError:
        reflection.cancel()  # the thread's call ends now
        raise


def _converse(
    stream: _Stream, protocol: str, wanted: Sequence[str], where: str
) -> ReflectionResult:
    (listing,) = stream.ask([_Request(list_services="")])
    _check(listing, "list_services_response", "the list of services", where)
    services = [s.name for s in listing.list_services_response.service]
    names = [n.lstrip(".") for n in wanted] or [
        n for n in services if not n.startswith(INFRASTRUCTURE)
    ]
    # A wanted name the server does not list is left for select_services to report.
    # (A set: a list's `in` made a listing of 100 000 names take 40 s of CPU, past
    # any timeout, since the deadline only bounds waiting for the server.)
    listed = set(services)
    symbols = [n for n in dict.fromkeys(names) if n in listed]
    files: dict[str, descriptor_pb2.FileDescriptorProto] = {}
    asked: set[str] = set()
    requests = [_Request(file_containing_symbol=n) for n in symbols]
    while requests:
        for request, answer in zip(requests, stream.ask(requests), strict=True):
            if answer.HasField("error_response") and request.file_by_filename:
                continue  # an import the server cannot send: build_pool says so, or fills it
            what = request.file_containing_symbol or request.file_by_filename
            _check(answer, "file_descriptor_response", f"the file of {what}", where)
            for data in answer.file_descriptor_response.file_descriptor_proto:
                try:
                    file = descriptor_pb2.FileDescriptorProto.FromString(data)
                except DecodeError:
                    raise DescriptorError(
                        f"{where} answered a reflection request for the file of {what} "
                        "with bytes that do not decode as a FileDescriptorProto"
                    ) from None
                files.setdefault(file.name, file)
        asked.update(r.file_by_filename for r in requests if r.file_by_filename)
        missing = {
            dep for file in files.values() for dep in file.dependency if dep not in files
        } - asked
        requests = [_Request(file_by_filename=name) for name in sorted(missing)]
    return ReflectionResult(services, list(files.values()), protocol)


def _check(answer: Any, field: str, what: str, where: str) -> None:
    if answer.WhichOneof("message_response") == field:
        return
    if answer.HasField("error_response"):
        error = answer.error_response
        code = next((s.name for s in grpc.StatusCode if s.value[0] == error.error_code), "UNKNOWN")
        raise DescriptorError(
            f"{where} has no reflection answer for {what}: {code}: {error.error_message}"
        )
    raise DescriptorError(f"{where} answered a reflection request for {what} with something else")
