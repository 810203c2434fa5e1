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

if TYPE_CHECKING:
    from grpcgw.proxy._config import ConfigError, ListenTLS, ProxyConfig, TargetTLS, load_config
    from grpcgw.proxy._files import DescriptorError, Descriptors
    from grpcgw.proxy._reload import Reloader, ReloadOutcome
    from grpcgw.proxy._serve import RunningProxy, run_proxy, start_proxy
    from grpcgw.proxy._source import DescriptorSource, load_descriptors

__all__ = [
    "ConfigError",
    "DescriptorError",
    "DescriptorSource",
    "Descriptors",
    "ListenTLS",
    "ProxyConfig",
    "ReloadOutcome",
    "Reloader",
    "RunningProxy",
    "TargetTLS",
    "load_config",
    "load_descriptors",
    "run_proxy",
    "start_proxy",
]

#: name -> the module defining it, imported on first use (``_serve`` imports
#: aiohttp and grpc; the configuration needs neither).
_LAZY = {
    "ConfigError": "_config",
    "ListenTLS": "_config",
    "ProxyConfig": "_config",
    "TargetTLS": "_config",
    "load_config": "_config",
    "DescriptorError": "_files",
    "Descriptors": "_files",
    "ReloadOutcome": "_reload",
    "Reloader": "_reload",
    "RunningProxy": "_serve",
    "run_proxy": "_serve",
    "start_proxy": "_serve",
    "DescriptorSource": "_source",
    "load_descriptors": "_source",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'grpcgw.proxy' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"grpcgw.proxy.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
