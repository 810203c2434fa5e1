"""From what a user hands us (a servicer, a descriptor, a service name) to HTTP bindings.

Reads the ``google.api.http`` method options that ordinary protoc Python output
already carries; no extra code generator is involved.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor

#: What may name a service: a servicer instance, its descriptor, or its full name.
ServiceLike = Any


class ServiceResolutionError(TypeError):
    """A value given as a service is not a servicer, descriptor or known service name."""


class HttpBinding(NamedTuple):
    """One HTTP mapping of a method: an ``HttpRule`` or one of its additional bindings."""

    http_method: str
    template: str
    body: str
    response_body: str

    def __str__(self) -> str:
        parts = [f"{self.http_method} {self.template}"]
        if self.body:
            parts.append(f'body: "{self.body}"')
        if self.response_body:
            parts.append(f'response_body: "{self.response_body}"')
        return ", ".join(parts)


class ServiceInfo(NamedTuple):
    """A resolved service: its descriptor and, when given as a servicer, how to serve it."""

    descriptor: ServiceDescriptor
    servicer: object | None = None
    #: The generated ``add_<Name>Servicer_to_server`` function for ``servicer``.
    add_to_server: Callable[[object, Any], None] | None = None

    @property
    def full_name(self) -> str:
        return str(self.descriptor.full_name)

    def is_async(self) -> bool:
        """Whether the servicer implements its methods with ``async def``."""
        if self.servicer is None:
            return False
        for method in self.descriptor.methods:
            impl = getattr(self.servicer, method.name, None)
            if impl is not None and is_async_behaviour(impl):
                return True
        return False


def is_async_behaviour(behaviour: object) -> bool:
    """Whether grpc.aio awaits ``behaviour`` (an ``async def``, an async generator
    function, an awaitable) rather than running it on its thread pool: grpc.aio's
    own test of a handler."""
    return (
        inspect.isawaitable(behaviour)
        or inspect.iscoroutinefunction(behaviour)
        or inspect.isasyncgenfunction(behaviour)
    )


class _Recorder:
    """Stands in for a ``grpc.Server`` to learn which services a generated
    ``add_*_to_server`` function registers, whatever grpcio-tools version wrote it."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def add_generic_rpc_handlers(self, handlers: Iterable[Any]) -> None:
        for handler in handlers:
            name = getattr(handler, "service_name", None)
            if callable(name):
                self.names.append(str(name()))

    def add_registered_method_handlers(self, service_name: str, handlers: object) -> None:
        self.names.append(service_name)


def _servicer_registration(servicer: object) -> tuple[str, Callable[[object, Any], None]] | None:
    for cls in type(servicer).__mro__:
        module = sys.modules.get(cls.__module__)
        add = getattr(module, f"add_{cls.__name__}_to_server", None)
        if callable(add):
            recorder = _Recorder()
            add(servicer, recorder)
            if recorder.names:
                return recorder.names[0], add
    return None


def resolve_service(service: ServiceLike, pool: Any = None) -> ServiceInfo:
    """Resolve a servicer instance, a ``ServiceDescriptor`` or a full service name.

    Names (and the services of servicers) are looked up in ``pool``, by default
    the default pool, where generated ``_pb2`` modules register their files.
    """
    if isinstance(service, ServiceDescriptor):
        return ServiceInfo(service)
    if pool is None:
        pool = descriptor_pool.Default()
    if isinstance(service, str):
        try:
            return ServiceInfo(pool.FindServiceByName(service.lstrip(".")))
        except KeyError:
            raise ServiceResolutionError(
                f"unknown service {service!r}: import its generated _pb2 module first "
                "(or pass the servicer or its ServiceDescriptor)"
            ) from None
    if isinstance(service, type):
        raise ServiceResolutionError(
            f"{service.__name__} is a class: pass an instance of the servicer"
        )
    found = _servicer_registration(service)
    if found is None:
        raise ServiceResolutionError(
            f"{type(service).__qualname__} is not a gRPC servicer: expected an instance of a "
            "class derived from a generated *Servicer base class, a ServiceDescriptor, or a "
            "full service name"
        )
    name, add = found
    return ServiceInfo(pool.FindServiceByName(name), servicer=service, add_to_server=add)


def _rule_bindings(rule: http_pb2.HttpRule) -> Iterable[HttpBinding]:
    pattern = rule.WhichOneof("pattern")
    if pattern is not None:
        if pattern == "custom":
            method, template = rule.custom.kind.upper(), rule.custom.path
        else:
            method, template = pattern.upper(), getattr(rule, pattern)
        yield HttpBinding(method, template, rule.body, rule.response_body)


def http_rule(method: MethodDescriptor) -> http_pb2.HttpRule | None:
    """The ``google.api.http`` option of a method, or ``None`` if it has none."""
    options = method.GetOptions()
    if not options.HasExtension(annotations_pb2.http):
        # Options are parsed once, on first use, with the extensions registered
        # then: a method whose options were read before google.api.annotations
        # was imported (one of a pool built from a descriptor set or by
        # reflection) keeps the rule's bytes unparsed. Parse them again.
        serialized = options.SerializeToString()
        if not serialized:
            return None
        options = descriptor_pb2.MethodOptions.FromString(serialized)
        if not options.HasExtension(annotations_pb2.http):
            return None
    rule: http_pb2.HttpRule = options.Extensions[annotations_pb2.http]
    return rule


def method_bindings(method: MethodDescriptor, *, expose_unannotated: bool) -> list[HttpBinding]:
    """Every HTTP binding of a method: the rule and its ``additional_bindings``.

    A method without an annotation is exposed only with ``expose_unannotated``,
    as ``POST /package.Service/Method`` with the whole message as the body.
    """
    rule = http_rule(method)
    if rule is None:
        if not expose_unannotated:
            return []
        return [
            HttpBinding("POST", f"/{method.containing_service.full_name}/{method.name}", "*", "")
        ]
    bindings = list(_rule_bindings(rule))
    for extra in rule.additional_bindings:
        # http.proto: additional bindings must not nest further; ignore any that do,
        # as grpc-gateway does.
        bindings.extend(_rule_bindings(extra))
    return bindings


def grpc_method_path(method: MethodDescriptor) -> str:
    """The gRPC ``:path`` of a method: ``/package.Service/Method``."""
    return f"/{method.containing_service.full_name}/{method.name}"
