"""File descriptors -> a descriptor pool of their own, and the services to serve from it.

Whatever the source (server reflection, a ``FileDescriptorSet`` file), the
descriptors arrive as ``FileDescriptorProto`` messages. They go into a new
``DescriptorPool``, never into the default one: the server may define a file
under a name the gateway process also imported, differently, and two loads
(a reload) must not meet either.

Pure: protobuf and the standard library only.
"""

from __future__ import annotations

import hashlib
import importlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.descriptor import ServiceDescriptor
from google.protobuf.descriptor_pool import DescriptorPool
from google.protobuf.message import DecodeError

from grpcgw.descriptors import http_rule

__all__ = [
    "INFRASTRUCTURE",
    "DescriptorError",
    "Descriptors",
    "build_pool",
    "fingerprint",
    "from_files",
    "merge_files",
    "parse_descriptor_set",
    "select_services",
]

#: Services of gRPC's own that are served only when named: reflection, health, channelz.
INFRASTRUCTURE: Final = ("grpc.reflection.", "grpc.health.", "grpc.channelz.")
#: A file protobuf or googleapis-common-protos ship as a generated module.
_BUNDLED: Final = re.compile(r"google/[a-z0-9_/]+\.proto")


class DescriptorError(ValueError):
    """Descriptors that cannot be loaded, or that give nothing to serve.

    The message says why in one line, and what to do where there is something
    to do (turn reflection on, build the set with ``--include_imports``, ...).
    """


@dataclass(frozen=True, slots=True, eq=False)
class Descriptors:
    """Descriptors loaded into a pool of their own, and the services to serve.

    Hand ``services`` to :class:`grpcgw.Gateway` (a ``ServiceDescriptor``
    brings its pool along), or names with ``pool=``.
    """

    #: The pool holding every loaded file; not the default pool (except for
    #: services taken from imported ``_pb2`` modules).
    pool: DescriptorPool
    #: The services to serve, in the order they were found or named.
    services: tuple[ServiceDescriptor, ...]
    #: The files as they arrived, ``SourceCodeInfo`` (proto comments) kept when
    #: the source had it: what an OpenAPI document takes its descriptions from.
    files: tuple[descriptor_pb2.FileDescriptorProto, ...]
    #: Where they came from, for logs: ``reflection at localhost:50051``, ...
    origin: str
    #: A digest of the files: equal digests, equal descriptors (reloads compare it).
    fingerprint: str

    @property
    def service_names(self) -> tuple[str, ...]:
        return tuple(str(s.full_name) for s in self.services)

    def file_set(self) -> descriptor_pb2.FileDescriptorSet:
        """The files as one ``FileDescriptorSet`` (what ``protoc --descriptor_set_out`` writes)."""
        return descriptor_pb2.FileDescriptorSet(file=self.files)


def fingerprint(files: Iterable[descriptor_pb2.FileDescriptorProto], *names: str) -> str:
    """A digest of ``files`` (and ``names``: the services a server lists),
    independent of their order."""
    digest = hashlib.sha256()
    parts = sorted(f.SerializeToString(deterministic=True) for f in files)
    parts.extend(sorted(name.encode() for name in names))
    for data in parts:
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def parse_descriptor_set(data: bytes, where: str) -> list[descriptor_pb2.FileDescriptorProto]:
    """The files of a serialized ``FileDescriptorSet``; ``where`` names it in errors."""
    try:
        files = descriptor_pb2.FileDescriptorSet.FromString(data)
    except DecodeError:
        raise DescriptorError(
            f"{where} is not a FileDescriptorSet (write one with protoc --descriptor_set_out "
            "--include_imports, or buf build -o FILE.binpb)"
        ) from None
    if not files.file or any(not f.name for f in files.file):
        raise DescriptorError(f"{where} holds no file descriptors: is it a FileDescriptorSet?")
    return list(files.file)


def merge_files(
    sources: Iterable[tuple[str, Iterable[descriptor_pb2.FileDescriptorProto]]],
) -> list[descriptor_pb2.FileDescriptorProto]:
    """Files from several sources, each once; a file defined differently by two is an error.

    Two descriptor sets commonly both carry the files they import
    (``google/api/http.proto``, ...): the same bytes, taken once.
    """
    seen: dict[str, tuple[str, bytes]] = {}
    out: list[descriptor_pb2.FileDescriptorProto] = []
    for where, files in sources:
        for file in files:
            data = _content(file)
            found = seen.get(file.name)
            if found is None:
                seen[file.name] = (where, data)
                out.append(file)
            elif found[1] != data:
                raise DescriptorError(
                    f"{file.name} is defined differently in {found[0]} and in {where}"
                )
    return out


def _content(file: descriptor_pb2.FileDescriptorProto) -> bytes:
    """The file without its comments: two sets built with and without
    ``--include_source_info`` define the same file."""
    if not file.HasField("source_code_info"):
        return file.SerializeToString(deterministic=True)
    bare = descriptor_pb2.FileDescriptorProto()
    bare.CopyFrom(file)
    bare.ClearField("source_code_info")
    return bare.SerializeToString(deterministic=True)


def _bundled(name: str) -> descriptor_pb2.FileDescriptorProto | None:
    """``name`` as protobuf or googleapis-common-protos ship it (their generated
    module's descriptor), or ``None``."""
    if not _BUNDLED.fullmatch(name):
        return None
    try:
        module = importlib.import_module(name[: -len(".proto")].replace("/", ".") + "_pb2")
    except ImportError:
        return None
    descriptor = getattr(module, "DESCRIPTOR", None)
    serialized = getattr(descriptor, "serialized_pb", None)
    if getattr(descriptor, "name", None) != name or not isinstance(serialized, bytes):
        return None
    return descriptor_pb2.FileDescriptorProto.FromString(serialized)


def build_pool(files: Sequence[descriptor_pb2.FileDescriptorProto], origin: str) -> DescriptorPool:
    """A new pool holding ``files``, each added after the files it imports.

    An import none of ``files`` provides is taken from the copy protobuf or
    googleapis-common-protos ship (``google/protobuf/*.proto``,
    ``google/api/*.proto``, ...); any other missing import is an error.
    """
    by_name = {f.name: f for f in files}
    pool = descriptor_pool.DescriptorPool()
    added: set[str] = set()
    adding: set[str] = set()

    def add(name: str, importer: str | None) -> None:
        if name in added:
            return
        if name in adding:
            raise DescriptorError(f"{origin}: {name} imports itself through {importer}")
        file = by_name.get(name)
        if file is None:
            file = _bundled(name)
            if file is None:
                raise DescriptorError(
                    f"{origin}: {importer} imports {name}, which is missing "
                    "(a descriptor set needs protoc --include_imports)"
                )
        adding.add(name)
        for dependency in file.dependency:
            add(dependency, name)
        adding.discard(name)
        try:
            pool.Add(file)
        except (TypeError, ValueError, KeyError) as exc:
            # upb: "Couldn't build proto file into descriptor pool: <why>".
            why = str(exc).removeprefix("Couldn't build proto file into descriptor pool: ")
            raise DescriptorError(f"{origin}: cannot load {name}: {why}") from None
        added.add(name)

    for file in files:
        add(file.name, None)
    return pool


def _annotated(service: ServiceDescriptor) -> bool:
    return any(http_rule(method) is not None for method in service.methods)


def select_services(
    pool: DescriptorPool,
    available: Sequence[str],
    wanted: Sequence[str],
    *,
    expose_unannotated: bool,
    origin: str,
    default: Sequence[str] | None = None,
) -> tuple[ServiceDescriptor, ...]:
    """The services to serve: the ``wanted`` ones (each must be ``available``),
    or else every one of ``default`` (by default: the available ones but gRPC's
    own, :data:`INFRASTRUCTURE`) with a ``google.api.http`` annotation (every one, with
    ``expose_unannotated``). Serving nothing is an error."""
    if wanted:
        names = list(dict.fromkeys(name.lstrip(".") for name in wanted))
        missing = [name for name in names if name not in available]
        if missing:
            raise DescriptorError(
                f"{origin} has no service {', '.join(missing)} "
                f"(it has: {', '.join(available) or 'none'})"
            )
        chosen = [pool.FindServiceByName(name) for name in names]
        if not expose_unannotated:
            bare = [str(s.full_name) for s in chosen if not _annotated(s)]
            if bare:
                raise DescriptorError(
                    f"{origin}: no method of {', '.join(bare)} has a google.api.http "
                    "annotation (expose_unannotated serves each as POST /package.Service/Method)"
                )
        return tuple(chosen)
    if default is None:
        default = [name for name in available if not name.startswith(INFRASTRUCTURE)]
    if not default:
        raise DescriptorError(f"{origin} has no services to serve")
    candidates = [pool.FindServiceByName(name) for name in default]
    chosen = [s for s in candidates if expose_unannotated or _annotated(s)]
    if not chosen:
        raise DescriptorError(
            f"{origin}: no method of {', '.join(default)} has a google.api.http annotation "
            "(expose_unannotated serves each as POST /package.Service/Method)"
        )
    return tuple(chosen)


def from_files(
    files: Sequence[descriptor_pb2.FileDescriptorProto],
    *,
    available: Sequence[str],
    wanted: Sequence[str],
    expose_unannotated: bool,
    origin: str,
    default: Sequence[str] | None = None,
    digest: str | None = None,
) -> Descriptors:
    """Load ``files`` into a new pool and pick the services to serve (see
    :func:`select_services`); ``digest`` is their :func:`fingerprint` if known."""
    pool = build_pool(files, origin)
    services = select_services(
        pool,
        available,
        wanted,
        expose_unannotated=expose_unannotated,
        origin=origin,
        default=default,
    )
    if digest is None:
        digest = fingerprint(files, *available)
    return Descriptors(pool, services, tuple(files), origin, digest)
