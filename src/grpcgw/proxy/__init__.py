"""grpcgw in front of any gRPC server: descriptors from reflection, descriptor sets or modules.

The descriptors a proxy serves come from a :class:`DescriptorSource`: the
target's server reflection (``grpc.reflection.v1``, falling back to
``v1alpha``), ``FileDescriptorSet`` files, or generated ``_pb2`` modules.
Reflection and descriptor sets load into a descriptor pool of their own, never
the default pool, so the server's files cannot collide with files the
gateway process imported::

    from grpcgw import Gateway
    from grpcgw.proxy import DescriptorSource, Reloader

    source = DescriptorSource(reflect="localhost:50051")
    descriptors = await source.load()          # pool, services, files
    gateway = Gateway(descriptors.services, target="localhost:50051")
    reloader = Reloader(gateway, source, descriptors)
    await reloader.reload()                    # re-read; swap the routes if they changed

:func:`start_proxy` and :func:`run_proxy` serve it all over HTTP (what
``grpcgw proxy`` runs). See docs/proxy.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from grpcgw.proxy._files import DescriptorError, Descriptors
from grpcgw.proxy._reload import Reloader, ReloadOutcome
from grpcgw.proxy._source import DescriptorSource, load_descriptors

if TYPE_CHECKING:
    from grpcgw.proxy._serve import RunningProxy, run_proxy, start_proxy

__all__ = [
    "DescriptorError",
    "DescriptorSource",
    "Descriptors",
    "ReloadOutcome",
    "Reloader",
    "RunningProxy",
    "load_descriptors",
    "run_proxy",
    "start_proxy",
]

#: Names whose module imports aiohttp: loaded on first use.
_LAZY = {"RunningProxy", "run_proxy", "start_proxy"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module("grpcgw.proxy._serve"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'grpcgw.proxy' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
