"""``grpcgw serve``'s configuration: one dataclass tree, read from flags, ``GRPCGW_*`` and TOML.

:class:`ServeConfig` holds what ``grpcgw serve`` takes besides the servicers:
the addresses and the logging of :func:`~grpcgw.serve_local`, and
``GatewayOptions`` and ``HttpLimits`` in full. Every field is a flag, an
environment variable and a key of the config file through
:mod:`grpcgw.settings`, exactly as for ``grpcgw proxy`` (the fields the two
share have the same names).

Pure: the standard library and grpcgw's pure modules.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from grpcgw import settings
from grpcgw.limits import HttpLimits
from grpcgw.logs import LOG_FORMATS, level_names
from grpcgw.options import GatewayOptions

__all__ = ["CONFIG_ENV", "ServeConfig", "load_serve_config", "serve_settings"]

#: The variable naming the config file, as ``--config`` does (the proxy's too).
CONFIG_ENV = "GRPCGW_CONFIG"


@dataclass(frozen=True, slots=True, kw_only=True)
class ServeConfig:
    """What ``grpcgw serve`` takes besides the servicers."""

    #: Where the HTTP/JSON gateway listens: host:port ([::]:8080, 127.0.0.1:0) or unix:/path.
    http_address: str = "[::]:8080"
    #: Where the gRPC server listens: host:port or unix:///path.sock.
    grpc_address: str = "[::]:8081"
    #: Enable gRPC server reflection (grpc.reflection.v1 and v1alpha).
    reflection: bool = True
    #: Seconds running calls get to finish on SIGTERM or SIGINT.
    grace: float = 5.0
    #: text (one line per record) or json (one object per line).
    log_format: str = field(default="text", metadata={"choices": LOG_FORMATS})
    #: The least severe level logged.
    log_level: str = field(default="INFO", metadata={"choices": level_names()})
    # (The choices are grpcgw.invoker.Dispatch's, written out: this module is stdlib-only.)
    #: How the gateway reaches the servicers: socket (over the gRPC server, as any client)
    #: or direct (called in process, with the same interceptors; docs/dispatch.md).
    dispatch: str = field(default="socket", metadata={"choices": ("socket", "direct")})
    #: Processes serving (each the gRPC server and the gateway, on the same addresses):
    #: 1 serves from this process; more fork workers under a supervisor (docs/workers.md).
    workers: int = 1
    #: Development: serve from a child process, started again whenever a .py file under
    #: the watched directories (or the config file) changes (docs/options.md, --reload).
    reload: bool = False
    #: The directories reload watches (default: the working directory and --path's).
    reload_dirs: tuple[str, ...] = field(default=(), metadata={"flag": "reload-dir"})
    #: Server interceptors, in order: module:Class (made with no arguments) or
    #: module:instance; all grpc.aio.ServerInterceptor or all grpc.ServerInterceptor.
    interceptors: tuple[str, ...] = field(default=(), metadata={"flag": "interceptor"})
    gateway: GatewayOptions = field(default_factory=GatewayOptions, metadata={"prefix": ""})
    limits: HttpLimits = field(default_factory=HttpLimits, metadata={"prefix": ""})

    def __post_init__(self) -> None:
        if not (self.grace >= 0 and self.grace != float("inf")):
            raise ValueError(
                f"grace must be a finite number of seconds, 0 or more, not {self.grace}"
            )
        if self.workers < 1:
            raise ValueError(f"workers must be 1 or more, not {self.workers}")
        if self.reload and self.workers > 1:
            raise ValueError(
                f"reload serves from one process: it cannot go with workers = {self.workers}"
            )


def serve_settings(*, with_help: bool = False) -> tuple[settings.Setting, ...]:
    """Every setting of ``grpcgw serve``, in declaration order."""
    return settings.describe(ServeConfig, with_help=with_help)


def load_serve_config(
    flags: settings.Layer,
    environ: Mapping[str, str] | None = None,
    config_file: str | os.PathLike[str] | None = None,
) -> tuple[ServeConfig, settings.Layer]:
    """The configuration from ``flags``, ``GRPCGW_*`` (``environ``, by default the
    process's) and the TOML ``config_file`` (by default ``$GRPCGW_CONFIG``), each
    over the one before. Raises :class:`~grpcgw.settings.SettingsError`."""
    if environ is None:
        environ = os.environ
    path = config_file or environ.get(CONFIG_ENV) or None
    config, merged = settings.load(ServeConfig, flags, environ, path, ignore_env=[CONFIG_ENV])
    assert isinstance(config, ServeConfig)
    return config, merged
