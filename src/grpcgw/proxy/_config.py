"""The proxy's configuration: one dataclass tree, read from flags, ``GRPCGW_*`` and TOML.

:class:`ProxyConfig` holds everything ``grpcgw proxy`` takes; every field of
it and of the dataclasses inside it (``GatewayOptions`` in full, the TLS
settings, ...) is a flag, an environment variable and a key of the config file
through :mod:`grpcgw.settings`, with its help text taken from the field's
comment. :func:`load_config` reads the three sources and the defaults, in the
order flag > environment > file > default.

Pure: the standard library and grpcgw's pure modules.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Final

from grpcgw import settings
from grpcgw.limits import HttpLimits
from grpcgw.logs import LOG_FORMATS, level_names
from grpcgw.options import GatewayOptions
from grpcgw.workers import check_workers

if TYPE_CHECKING:
    from grpcgw.channel import TLSConfig
    from grpcgw.proxy._source import DescriptorSource

__all__ = [
    "CONFIG_ENV",
    "ConfigError",
    "ListenTLS",
    "ProxyConfig",
    "TargetTLS",
    "load_config",
    "print_config",
    "proxy_settings",
]

#: The variable naming the config file, as ``--config`` does.
CONFIG_ENV: Final = "GRPCGW_CONFIG"


class ConfigError(ValueError):
    """A configuration that cannot be served: the message names the setting and its source."""


#: The sources of descriptors, each with its flag.
_SOURCES = {"reflect": "--reflect", "descriptor_sets": "--descriptor-set", "imports": "--import"}


@dataclass(frozen=True, slots=True, kw_only=True)
class TargetTLS:
    """TLS (and mutual TLS) to the gRPC server."""

    #: Dial the target with TLS, trusting the system's roots unless ``ca`` is given
    #: (implied by ``ca`` and ``cert``).
    tls: bool = field(default=False, metadata={"flag": "tls"})
    #: PEM file of the root certificates the target's certificate is checked against.
    ca: str | None = field(default=None, metadata={"flag": "ca"})
    #: PEM file of the client certificate chain (mutual TLS).
    cert: str | None = field(default=None, metadata={"flag": "cert"})
    #: PEM file of the client's private key (mutual TLS).
    key: str | None = field(default=None, metadata={"flag": "key"})
    #: The name to check on the target's certificate instead of the target's host.
    server_name: str | None = field(default=None, metadata={"flag": "server-name"})

    def __post_init__(self) -> None:
        if (self.cert is None) != (self.key is None):
            raise ConfigError("target TLS: give both cert and key (mutual TLS), or neither")

    def config(self) -> TLSConfig | None:
        """The channel's TLS settings, or ``None`` for a plaintext target."""
        if not (self.tls or self.ca or self.cert):
            return None
        from grpcgw.channel import TLSConfig

        return TLSConfig(
            root_certificates=self.ca,
            certificate_chain=self.cert,
            private_key=self.key,
            server_name=self.server_name,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ListenTLS:
    """HTTPS on the proxy's own listener."""

    #: PEM certificate chain the HTTP listener presents: serve HTTPS.
    cert: str | None = None
    #: PEM private key of that certificate.
    key: str | None = None

    def __post_init__(self) -> None:
        if (self.cert is None) != (self.key is None):
            raise ConfigError("listener TLS: give both tls_cert and tls_key, or neither")


def _seconds(name: str, value: float | None, *, zero: bool = False) -> None:
    if value is None:
        return
    low_ok = value >= 0 if zero else value > 0
    if not (low_ok and math.isfinite(value)):
        above = "at least 0" if zero else "above 0"
        raise ConfigError(f"{name} must be a finite number of seconds {above}, not {value}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ProxyConfig:
    """Everything ``grpcgw proxy`` takes."""

    #: The gRPC server: host:port, unix:///path.sock, dns:///host:port.
    target: str = ""
    #: Where the HTTP/JSON gateway listens: host:port ([::]:8080, 127.0.0.1:0) or unix:/path.
    http_address: str = "[::]:8080"
    #: Processes serving: 1 serves from this process; more fork that many whole proxies
    #: under a supervisor, on the same address (docs/workers.md).
    workers: int = 1

    # -- descriptors --------------------------------------------------------------
    #: Read the services and their types from the target's server reflection
    #: (grpc.reflection.v1, falling back to v1alpha).
    reflect: bool = False
    #: FileDescriptorSet files (protoc --descriptor_set_out --include_imports, buf build -o).
    descriptor_sets: tuple[str, ...] = field(default=(), metadata={"flag": "descriptor-set"})
    #: Python modules to import for their descriptors (generated _pb2 modules).
    imports: tuple[str, ...] = field(default=(), metadata={"flag": "import"})
    #: The services to serve (full names); by default every one with an annotation.
    services: tuple[str, ...] = field(default=(), metadata={"flag": "service"})
    #: Re-read the descriptors this often (seconds) and swap the routes if they
    #: changed; SIGHUP always does.
    reload_interval: float | None = field(default=None, metadata={"aliases": ["reflect_interval"]})
    #: Seconds reflection may take, connecting included (it waits for the server to come up).
    reflect_timeout: float = 10.0

    # -- TLS ------------------------------------------------------------------------
    target_tls: TargetTLS = field(default_factory=TargetTLS, metadata={"prefix": "target_"})
    listen_tls: ListenTLS = field(default_factory=ListenTLS, metadata={"prefix": "tls_"})

    # -- lifecycle ------------------------------------------------------------------
    #: The readiness probe: 200 once routes are loaded and the target answers, 503
    #: otherwise and while shutting down.
    ready_path: str = "/readyz"
    #: The liveness probe: 200 while the process serves.
    live_path: str = "/livez"
    #: Seconds a readiness answer is reused (the target is asked at most this often).
    ready_cache: float = 1.0
    #: Seconds to keep serving after SIGTERM with readiness failing, before the
    #: listener closes (time for load balancers to stop sending).
    drain_delay: float = 0.0
    #: Seconds in-flight requests get to finish once the listener is closed.
    shutdown_grace: float = 25.0

    # -- logging ----------------------------------------------------------------------
    #: text (one line per record) or json (one object per line).
    log_format: str = field(default="text", metadata={"choices": LOG_FORMATS})
    #: The least severe level logged.
    log_level: str = field(default="INFO", metadata={"choices": level_names()})

    # -- the gateway, and what HTTP clients may hold ---------------------------------------
    gateway: GatewayOptions = field(default_factory=GatewayOptions, metadata={"prefix": ""})
    limits: HttpLimits = field(default_factory=HttpLimits, metadata={"prefix": ""})

    def __post_init__(self) -> None:
        if not self.target.strip():
            raise ConfigError("no target: give --target, GRPCGW_TARGET or target in the file")
        given = [n for n in _SOURCES if getattr(self, n)]
        if len(given) > 1:
            named = " and ".join(f"{_SOURCES[n]} ({n})" for n in given)
            raise ConfigError(f"give one source of descriptors, not {named}")
        if not given and not self.services:
            raise ConfigError(
                "no descriptors: give --reflect (ask the target), --descriptor-set FILE or "
                "--import MODULE (reflect, descriptor_sets or imports in the file)"
            )
        try:
            check_workers(self.workers)  # refused before anything forks
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        _seconds("reload_interval", self.reload_interval)
        _seconds("reflect_timeout", self.reflect_timeout)
        _seconds("ready_cache", self.ready_cache, zero=True)
        _seconds("drain_delay", self.drain_delay, zero=True)
        _seconds("shutdown_grace", self.shutdown_grace, zero=True)
        for name in ("ready_path", "live_path"):
            if not getattr(self, name).startswith("/"):
                raise ConfigError(f"{name} must start with /, not {getattr(self, name)!r}")
        if self.ready_path == self.live_path:
            raise ConfigError("ready_path and live_path must differ")
        if self.gateway.api_docs is not False:  # on unless turned off
            served = replace(self.gateway, api_docs=True).api_docs_paths()
            for name, path in served.items():
                for probe in ("ready_path", "live_path"):
                    if path == getattr(self, probe):
                        raise ConfigError(f"{probe} and {name} are both {path!r}")

    def source(self) -> DescriptorSource:
        """Where the descriptors come from."""
        from grpcgw.proxy._source import DescriptorSource

        return DescriptorSource(
            reflect=self.target if self.reflect else None,
            descriptor_sets=self.descriptor_sets,
            modules=self.imports,
            services=self.services,
            tls=self.target_tls.config(),
            timeout=self.reflect_timeout,
        )

    @property
    def log_level_number(self) -> int:
        return int(logging.getLevelName(self.log_level))


def proxy_settings(*, with_help: bool = False) -> tuple[settings.Setting, ...]:
    """Every setting of a proxy, in declaration order (``with_help``: with help texts)."""
    return settings.describe(ProxyConfig, with_help=with_help)


def load_config(
    flags: settings.Layer,
    environ: Mapping[str, str] | None = None,
    config_file: str | os.PathLike[str] | None = None,
) -> tuple[ProxyConfig, settings.Layer]:
    """The configuration from ``flags`` (a layer made from the command line), the
    ``GRPCGW_*`` variables of ``environ`` (by default the process's) and the TOML
    ``config_file`` (by default ``$GRPCGW_CONFIG``), each over the one before;
    returns it with where each value came from. Raises :class:`ConfigError`."""
    if environ is None:
        environ = os.environ
    path = config_file or environ.get(CONFIG_ENV) or None
    try:
        config, merged = settings.load(ProxyConfig, flags, environ, path, ignore_env=[CONFIG_ENV])
    except settings.SettingsError as exc:
        raise ConfigError(str(exc)) from None
    return config, merged


def print_config(config: ProxyConfig, origins: Mapping[str, str]) -> str:
    """The configuration as a TOML document that ``--config`` reads back."""
    head = "# grpcgw proxy: the effective configuration (flag > environment > file > default)\n"
    return head + settings.to_toml(proxy_settings(), config, origins)


def probe_url(
    *,
    ready: bool = False,
    environ: Mapping[str, str] | None = None,
    config_file: str | os.PathLike[str] | None = None,
) -> str:
    """The URL of this container's own liveness (or readiness) probe, from the
    same environment variables and file the proxy reads (``grpcgw healthcheck``)."""
    if environ is None:
        environ = os.environ
    path = config_file or environ.get(CONFIG_ENV) or None
    layers = []
    try:
        if path is not None:
            document = settings.read_config_file(path)
            layers.append(settings.from_toml(proxy_settings(), document, str(path)))
        layers.append(settings.from_env(proxy_settings(), environ, ignore=[CONFIG_ENV]))
    except settings.SettingsError as exc:
        raise ConfigError(str(exc)) from None
    values = dict(settings.resolve(proxy_settings(), *layers).values)
    defaults = {s.key: s.default for s in proxy_settings()}

    def get(key: str) -> object:
        return values.get(key, defaults[key])

    address = str(get("http_address"))
    if address.startswith("unix:"):
        raise ConfigError("a healthcheck needs a TCP http_address, not a unix socket")
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    if host in ("", "0.0.0.0", "::", "*"):
        host = "127.0.0.1"  # a wildcard address is not one to dial
    elif ":" in host:
        host = f"[{host}]"
    scheme = "https" if get("tls_cert") else "http"
    return f"{scheme}://{host}:{port}{get('ready_path' if ready else 'live_path')}"
