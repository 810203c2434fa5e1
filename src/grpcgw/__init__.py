"""grpcgw: serve the ``google.api.http`` annotations of gRPC services as HTTP/JSON.

Locally (:func:`serve_local`), inside your own aiohttp application
(:mod:`grpcgw.web`), on AWS Lambda, or in front of any gRPC server
(:mod:`grpcgw.proxy`). Names load on first use, so
``import grpcgw`` stays cheap and the Lambda path never imports aiohttp.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0.dev0"

__all__ = [
    "Code",
    "CorsOptions",
    "Gateway",
    "GatewayConfig",
    "GatewayError",
    "GatewayOptions",
    "HttpLimits",
    "HttpRequest",
    "HttpResponse",
    "LambdaOptions",
    "RouteConfigError",
    "TLSConfig",
    "UnescapeMode",
    "__version__",
    "openapi",
    "proxy",
    "serve_lambda",
    "serve_local",
    "start_local",
    "web",
]

# name -> module that defines it; imported on first attribute access.
_LAZY = {
    "Code": "grpcgw.errors",
    "GatewayError": "grpcgw.errors",
    "Gateway": "grpcgw.gateway",
    "GatewayConfig": "grpcgw.gateway",
    "CorsOptions": "grpcgw.cors",
    "HttpRequest": "grpcgw.exchange",
    "HttpResponse": "grpcgw.exchange",
    "HttpLimits": "grpcgw.limits",
    "RouteConfigError": "grpcgw.gateway",
    "GatewayOptions": "grpcgw.options",
    "UnescapeMode": "grpcgw.options",
    "TLSConfig": "grpcgw.channel",
    "LambdaOptions": "grpcgw.awslambda",
    "serve_lambda": "grpcgw.awslambda",
    "serve_local": "grpcgw.server",
    "start_local": "grpcgw.server",
}

if TYPE_CHECKING:
    from grpcgw import openapi, proxy, web
    from grpcgw.awslambda import LambdaOptions, serve_lambda
    from grpcgw.channel import TLSConfig
    from grpcgw.cors import CorsOptions
    from grpcgw.errors import Code, GatewayError
    from grpcgw.exchange import HttpRequest, HttpResponse
    from grpcgw.gateway import Gateway, GatewayConfig, RouteConfigError
    from grpcgw.limits import HttpLimits
    from grpcgw.options import GatewayOptions, UnescapeMode
    from grpcgw.server import serve_local, start_local


def __getattr__(name: str) -> Any:
    if name in ("web", "proxy", "openapi", "cors"):  # cors: GatewayOptions' annotation
        return importlib.import_module(f"grpcgw.{name}")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'grpcgw' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
