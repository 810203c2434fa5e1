"""Where a proxy's descriptors come from: server reflection, descriptor sets, or modules."""

from __future__ import annotations

import importlib
import math
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.descriptor import FileDescriptor

from grpcgw.proxy._files import (
    DescriptorError,
    Descriptors,
    fingerprint,
    from_files,
    merge_files,
    parse_descriptor_set,
    select_services,
)

if TYPE_CHECKING:
    from grpcgw.channel import TLSConfig

#: A descriptor set: a path to a ``FileDescriptorSet`` file, or its bytes.
DescriptorSetLike = str | os.PathLike[str] | bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class DescriptorSource:
    """Where to load descriptors from, and which services to serve.

    Give one of ``reflect`` (a gRPC target whose reflection service is asked),
    ``descriptor_sets`` (``FileDescriptorSet`` files, as ``protoc
    --descriptor_set_out --include_imports`` and ``buf build -o`` write them)
    or ``modules`` (generated ``_pb2`` modules to import). With none of them,
    ``services`` are looked up in the default pool (modules already imported).

    ``services`` names the services to serve; by default every service found
    with a ``google.api.http`` annotation (reflection: every service the
    server lists; descriptor sets: every service they define outside
    ``google.*`` packages, whose files usually come along as imports;
    modules: every service the modules define).

    :meth:`load` may be called again (a reload): each call reads the source
    anew into a new pool.
    """

    #: Ask this gRPC target's reflection service (``grpc.reflection.v1``, then ``v1alpha``).
    reflect: str | None = None
    #: Read these ``FileDescriptorSet`` files (paths, or their bytes).
    descriptor_sets: Sequence[DescriptorSetLike] = ()
    #: Import these modules (generated ``_pb2`` modules, or modules that import them).
    modules: Sequence[str] = ()
    #: Serve these services (full names); by default every annotated one.
    services: Sequence[str] = ()
    #: TLS for ``reflect`` (as for the gateway's own channel).
    tls: TLSConfig | None = None
    #: Channel arguments for ``reflect``.
    channel_options: Sequence[tuple[str, Any]] = ()
    #: Seconds reflection may take in all, the connection included.
    timeout: float = 10.0

    def __post_init__(self) -> None:
        for name in ("descriptor_sets", "modules", "services", "channel_options"):
            value = getattr(self, name)
            if isinstance(value, str | bytes | os.PathLike):
                raise TypeError(f"DescriptorSource.{name} takes a sequence, not {value!r}")
            object.__setattr__(self, name, tuple(value))
        given = [n for n in ("reflect", "descriptor_sets", "modules") if getattr(self, n)]
        if len(given) > 1:
            raise ValueError(f"DescriptorSource takes one source, not {' and '.join(given)}")
        if not given and not self.services:
            raise ValueError(
                "DescriptorSource needs reflect=, descriptor_sets=, modules= or services="
            )
        timeout = self.timeout
        if isinstance(timeout, bool) or not isinstance(timeout, int | float):
            raise ValueError(f"DescriptorSource.timeout must be a number, not {timeout!r}")
        if not (timeout > 0 and math.isfinite(timeout)):
            raise ValueError(f"DescriptorSource.timeout must be above 0 and finite, not {timeout}")

    def describe(self) -> str:
        """The source in words, for logs: ``reflection at localhost:50051``, ..."""
        if self.reflect:
            return f"reflection at {self.reflect}"
        if self.descriptor_sets:
            return "descriptor set " + ", ".join(_set_name(s) for s in self.descriptor_sets)
        if self.modules:
            return "modules " + ", ".join(self.modules)
        return "the default descriptor pool"

    async def load(
        self, *, expose_unannotated: bool = False, previous: Descriptors | None = None
    ) -> Descriptors:
        """Read the source into a new pool and pick the services to serve.

        Returns ``previous`` itself when the source still holds exactly what it
        held then (no new pool is built). Raises :class:`DescriptorError`, with
        one line saying why, when the source cannot be read or gives nothing to
        serve.
        """
        if self.reflect:
            return await self._reflect(self.reflect, expose_unannotated, previous)
        if self.descriptor_sets:
            return self._read_sets(expose_unannotated, previous)
        return self._default_pool(expose_unannotated)

    async def _reflect(
        self, target: str, expose_unannotated: bool, previous: Descriptors | None
    ) -> Descriptors:
        from grpcgw.proxy._reflect import V1, fetch

        found = await fetch(
            target,
            wanted=self.services,
            tls=self.tls,
            channel_options=self.channel_options,
            timeout=self.timeout,
        )
        digest = fingerprint(found.files, *found.services)
        if previous is not None and previous.fingerprint == digest:
            return previous
        version = "v1" if found.protocol == V1 else "v1alpha"
        return from_files(
            found.files,
            available=found.services,
            wanted=self.services,
            expose_unannotated=expose_unannotated,
            origin=f"the gRPC server at {target} (reflection {version})",
            digest=digest,
        )

    def _read_sets(self, expose_unannotated: bool, previous: Descriptors | None) -> Descriptors:
        sources = []
        for item in self.descriptor_sets:
            where = _set_name(item)
            if isinstance(item, bytes):
                data = item
            else:
                try:
                    data = Path(item).read_bytes()
                except OSError as exc:
                    raise DescriptorError(
                        f"cannot read descriptor set {where}: {exc.strerror or exc}"
                    ) from None
            sources.append((where, parse_descriptor_set(data, f"descriptor set {where}")))
        files = merge_files(sources)
        available = [
            f"{file.package}.{service.name}" if file.package else service.name
            for file in files
            for service in file.service
        ]
        digest = fingerprint(files, *available)
        if previous is not None and previous.fingerprint == digest:
            return previous
        packages = {
            (f"{file.package}.{service.name}" if file.package else service.name): file.package
            for file in files
            for service in file.service
        }
        default = [n for n in available if not f"{packages[n]}.".startswith("google.")]
        return from_files(
            files,
            available=available,
            wanted=self.services,
            expose_unannotated=expose_unannotated,
            origin=self.describe(),
            default=default,
            digest=digest,
        )

    def _default_pool(self, expose_unannotated: bool) -> Descriptors:
        pool = descriptor_pool.Default()
        files: dict[str, FileDescriptor] = {}
        if str(Path.cwd()) not in sys.path:
            sys.path.insert(0, str(Path.cwd()))  # as python -m does: modules of the project
        for name in self.modules:
            try:
                module = importlib.import_module(name)
            except ImportError as exc:
                missing = getattr(exc, "name", None) or ""
                hint = ""
                if missing and (name == missing or name.startswith(missing + ".")):
                    # The module itself is not on the path (protoc's code in gen/, say).
                    hint = " (not on sys.path; grpcgw proxy --path DIR adds a directory)"
                raise DescriptorError(f"cannot import module {name}: {exc}{hint}") from None
            file = getattr(module, "DESCRIPTOR", None)
            if isinstance(file, FileDescriptor):
                files[file.name] = file
        available = [str(s.full_name) for f in files.values() for s in f.services_by_name.values()]
        for wanted in self.services:
            name = wanted.lstrip(".")
            try:
                service = pool.FindServiceByName(name)
            except KeyError:
                continue  # select_services reports it
            files[service.file.name] = service.file
            available.append(name)
        if not available and not self.services:
            raise DescriptorError(
                f"{self.describe()} define no services: import the generated _pb2 "
                "modules, or name the services to serve"
            )
        origin = self.describe()
        if not self.modules:
            origin = "the default descriptor pool (import the service's _pb2 module first)"
        services = select_services(
            pool,
            list(dict.fromkeys(available)),
            self.services,
            expose_unannotated=expose_unannotated,
            origin=origin,
        )
        protos = tuple(
            descriptor_pb2.FileDescriptorProto.FromString(f.serialized_pb) for f in files.values()
        )
        return Descriptors(pool, services, protos, origin, fingerprint(protos, *available))


def _set_name(item: DescriptorSetLike) -> str:
    return "(bytes)" if isinstance(item, bytes) else os.fspath(item)


async def load_descriptors(
    *,
    reflect: str | None = None,
    descriptor_sets: Sequence[DescriptorSetLike] = (),
    modules: Sequence[str] = (),
    services: Sequence[str] = (),
    tls: TLSConfig | None = None,
    timeout: float = 10.0,  # noqa: ASYNC109  (the source's: reflection's gRPC deadline)
    expose_unannotated: bool = False,
) -> Descriptors:
    """Load descriptors once: ``await DescriptorSource(...).load(...)``.

    >>> descriptors = await load_descriptors(reflect="localhost:50051")  # doctest: +SKIP
    >>> gateway = grpcgw.Gateway(descriptors.services, target="localhost:50051")  # doctest: +SKIP
    """
    source = DescriptorSource(
        reflect=reflect,
        descriptor_sets=descriptor_sets,
        modules=modules,
        services=services,
        tls=tls,
        timeout=timeout,
    )
    return await source.load(expose_unannotated=expose_unannotated)
