"""Describe a gateway's HTTP API as OpenAPI 3.1 or Swagger 2.0, from its compiled routes.

The document is built from what serves the requests (the route table, each
binding's :class:`~grpcgw.binding.BindingPlan`, the response transcoders and
the :class:`~grpcgw.options.GatewayOptions`), so it cannot drift from what the
gateway does::

    from grpcgw import openapi
    doc = openapi.document(gateway)              # dict, built once per gateway, cached
    body = openapi.document_json(gateway, "2.0") # bytes, for serving
    routes = openapi.compile_routes(["example.v1.PingService"])  # no server needed
    doc = openapi.build_document(routes, descriptor_set=fds)     # with proto comments

Pure: protobuf only (no aiohttp, no grpc). See docs/openapi.md for the mapping.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Final

from grpcgw.openapi import _swagger2, _yaml
from grpcgw.openapi._comments import Comments
from grpcgw.openapi._document import Builder
from grpcgw.options import GatewayOptions

if TYPE_CHECKING:
    from google.protobuf.descriptor_pb2 import FileDescriptorProto, FileDescriptorSet

    from grpcgw.descriptors import ServiceLike
    from grpcgw.gateway import Gateway, Route

__all__ = [
    "VERSIONS",
    "build_document",
    "compile_routes",
    "document",
    "document_json",
    "to_yaml",
]

#: The document versions: OpenAPI 3.1.0 (the default) and Swagger 2.0.
VERSIONS: Final = ("3.1", "2.0")


def _files(descriptor_set: Any) -> Iterable[FileDescriptorProto]:
    if descriptor_set is None:
        return ()
    files = getattr(descriptor_set, "file", descriptor_set)
    return list(files)


def build_document(
    routes: Sequence[Route],
    *,
    options: GatewayOptions | None = None,
    version: str = "3.1",
    descriptor_set: FileDescriptorSet | Iterable[FileDescriptorProto] | None = None,
    title: str | None = None,
    api_version: str | None = None,
) -> dict[str, Any]:
    """The OpenAPI document (a new dict) for some compiled routes.

    ``routes``: a :class:`~grpcgw.gateway.Gateway`'s ``routes`` or
    :func:`compile_routes`' result; ``options``: the options they were compiled
    with (JSON names, enums, strictness and path decoding follow them);
    ``version``: ``"3.1"`` or ``"2.0"``; ``descriptor_set``: the
    ``FileDescriptorSet`` (or its files) built with ``--include_source_info``,
    for summaries and descriptions from proto comments; ``title`` and
    ``api_version`` override ``info`` (else grpc-gateway's ``openapiv2_swagger``
    annotation, else the service names and ``0.0.0``).
    """
    if version not in VERSIONS:
        raise ValueError(f"unknown OpenAPI version {version!r}: expected one of {VERSIONS}")
    builder = Builder(
        routes,
        options=options or GatewayOptions(),
        comments=Comments(_files(descriptor_set)),
        title=title,
        version=api_version,
    )
    document = builder.build()
    if version == "2.0":
        return _swagger2.convert(document, builder.file_options(), builder.options.openapi_security)
    return document


def compile_routes(
    services: Iterable[ServiceLike] | ServiceLike, *, options: GatewayOptions | None = None
) -> tuple[Route, ...]:
    """The routes a :class:`~grpcgw.gateway.Gateway` would serve for ``services``
    (servicers, descriptors or full names), compiled without any channel."""
    from grpcgw.gateway import Gateway

    # A target is parsed, never dialled: nothing is called, and no header forwarded
    # (a matcher keeping them all: nothing to say of openapi_security's headers).
    return Gateway(
        services, target="unix:///dev/null", options=options, header_matcher=str.lower
    ).routes


#: gateway -> (version, descriptor set id, as JSON) -> (document or bytes, the set kept alive).
_cache: weakref.WeakKeyDictionary[Gateway, dict[tuple[str, int, bool], tuple[Any, Any]]] = (
    weakref.WeakKeyDictionary()
)
#: gateway -> the routes its cached documents describe (``replace_services`` changes them).
_described: weakref.WeakKeyDictionary[Gateway, tuple[Route, ...]] = weakref.WeakKeyDictionary()


def _entries(gateway: Gateway) -> dict[tuple[str, int, bool], tuple[Any, Any]]:
    """The gateway's cached documents, emptied if its routes changed since."""
    routes = gateway.routes
    described = _described.get(gateway)
    if (
        described is None
        or len(described) != len(routes)
        or any(a is not b for a, b in zip(described, routes, strict=True))
    ):
        _described[gateway] = routes
        _cache[gateway] = {}
    return _cache[gateway]


def document(
    gateway: Gateway,
    version: str = "3.1",
    *,
    descriptor_set: FileDescriptorSet | Iterable[FileDescriptorProto] | None = None,
) -> dict[str, Any]:
    """The document of a gateway's routes, built on first use and cached with the
    gateway (per version and descriptor set) until its routes change
    (:meth:`~grpcgw.Gateway.replace_services`). Shared: copy it before changing it.

    ``descriptor_set``: see :func:`build_document` (comments as descriptions);
    by default the gateway's own (:attr:`~grpcgw.Gateway.descriptor_set`).
    """
    if descriptor_set is None:
        descriptor_set = gateway.descriptor_set
    cached = _entries(gateway)
    key = (version, 0 if descriptor_set is None else id(descriptor_set), False)
    found = cached.get(key)
    if found is None:
        built = build_document(
            gateway.routes,
            options=gateway.options,
            version=version,
            descriptor_set=descriptor_set,
        )
        found = cached[key] = (built, descriptor_set)
    result: dict[str, Any] = found[0]
    return result


def document_json(
    gateway: Gateway,
    version: str = "3.1",
    *,
    descriptor_set: FileDescriptorSet | Iterable[FileDescriptorProto] | None = None,
) -> bytes:
    """:func:`document` as UTF-8 JSON, encoded once and cached (what a server sends)."""
    if descriptor_set is None:
        descriptor_set = gateway.descriptor_set
    cached = _entries(gateway)
    key = (version, 0 if descriptor_set is None else id(descriptor_set), True)
    found = cached.get(key)
    if found is None:
        built = document(gateway, version, descriptor_set=descriptor_set)
        text = json.dumps(built, ensure_ascii=False, separators=(",", ":"))
        found = cached[key] = (text.encode("utf-8"), descriptor_set)
    result: bytes = found[0]
    return result


def to_yaml(document: Any) -> str:
    """A document as YAML text (a small emitter of our own: no PyYAML needed)."""
    return _yaml.dump(document)
