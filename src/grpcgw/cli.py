"""The ``grpcgw`` command: serve servicers, try Lambda handlers locally, list routes, run a proxy.

grpcgw serve examples.ping.service:PingServicer examples.ping.service:ShelfServicer
grpcgw lambda-invoke examples.ping.lambda_function.handler event.json
grpcgw lambda-invoke examples.ping.lambda_function.handler --request GET /v1/ping
grpcgw lambda-invoke --zip function.zip app.main.handler --request GET /v1/ping
grpcgw routes examples.ping.service:ShelfServicer
grpcgw openapi examples.ping.service:ShelfServicer --format yaml -o openapi.yaml
grpcgw routes --path gen --import bookshop.v1.bookshop_pb2 bookshop.v1.BookshopService
grpcgw lambda-build app.handler --requirements requirements.txt --arch arm64 -o function.zip
grpcgw proxy --target localhost:50051 --reflect --http-address :8080
grpcgw proxy --target localhost:50051 --descriptor-set api.binpb
grpcgw proxy --target localhost:50051 --import mypkg.v1.api_pb2
"""

from __future__ import annotations

import argparse
import contextlib
import enum
import importlib
import json
import logging
import os
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from grpcgw.proxy import ProxyConfig


def _path_option(parser: argparse.ArgumentParser) -> None:
    """``--path DIR``: where the commands that import your modules look first."""
    parser.add_argument(
        "--path",
        "-p",
        dest="path",
        action="append",
        default=[],
        metavar="DIR",
        help="look for your modules in DIR too, before the rest of sys.path (e.g. gen, "
        "where protoc wrote your code); repeatable. The current directory is always searched",
    )


def _extend_path(dirs: Sequence[str]) -> None:
    """Put each ``--path`` directory at the front of ``sys.path``, in the order given."""
    paths = []
    for d in dirs:
        path = Path(d).resolve()
        if not path.is_dir():
            raise SystemExit(f"grpcgw: --path {d}: no such directory")
        paths.append(str(path))
    sys.path[:0] = paths


def _import(spec: str) -> Any:
    """``pkg.module:attr`` or ``pkg.module.attr`` -> the object."""
    module_name, sep, attr = spec.partition(":")
    if not sep:
        module_name, _, attr = spec.rpartition(".")
    if not module_name or not attr:
        raise SystemExit(f"grpcgw: {spec!r} is not module.attribute or module:attribute")
    module = _import_module(module_name)
    try:
        return getattr(module, attr)
    except AttributeError:
        raise SystemExit(f"grpcgw: module {module_name!r} has no attribute {attr!r}") from None


def _import_module(name: str) -> Any:
    """Import a module the command line names, from the current directory first.

    When the module itself (or its package) is not found, the message says where
    grpcgw looked and how to look elsewhere: protoc's code in ``gen/`` is not
    importable from the project's root without ``--path gen``.
    """
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if not missing or not (name == missing or name.startswith(missing + ".")):
            raise  # something the module imports is missing: Python's message names it
        raise ModuleNotFoundError(
            f"No module named {missing!r} in the current directory, the --path directories "
            "or the installed packages (code protoc wrote into a directory such as gen/ "
            "needs --path gen)",
            name=missing,
        ) from None


def _synthetic_event(
    method: str, target: str, body: str | None, headers: Sequence[str] = ()
) -> dict[str, Any]:
    """A minimal HTTP API (payload 2.0) event, what a function URL also sends."""
    path, _, query = target.partition("?")
    if not path.startswith("/"):
        raise SystemExit(f"grpcgw: --request PATH must start with '/' (got {target!r})")
    given: dict[str, str] = {}
    for header in headers:
        name, sep, value = header.partition(":")
        if not sep or not name.strip():
            raise SystemExit(f"grpcgw: --header {header!r} is not 'Name: value'")
        name, value = name.strip().lower(), value.strip()
        # As API Gateway passes a repeated header: its values joined by commas.
        given[name] = f"{given[name]},{value}" if name in given else value
    fields = {"host": "localhost", "content-type": "application/json", **given}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": fields,
        "requestContext": {
            "domainName": "localhost",
            "http": {"method": method, "path": path, "sourceIp": "127.0.0.1"},
            "requestId": str(uuid.uuid4()),
            "stage": "$default",
        },
        "isBase64Encoded": False,
    }
    if body is not None:
        event["body"] = body
    return event


def _read_text(source: str, what: str) -> str:
    """The UTF-8 text (what JSON is) of a file, or of standard input for ``-``."""
    try:
        if source == "-":
            stdin = getattr(sys.stdin, "buffer", None)
            data = sys.stdin.read() if stdin is None else stdin.read()
        else:
            data = Path(source).read_bytes()
        return data if isinstance(data, str) else data.decode("utf-8")
    except OSError as exc:
        raise SystemExit(f"grpcgw: cannot read {what} {source!r}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        bad = exc.object[exc.start]
        raise SystemExit(
            f"grpcgw: cannot read {what} {source!r}: not UTF-8 text "
            f"(byte {bad:#04x} at position {exc.start})"
        ) from None


def _lambda_invoke(args: argparse.Namespace) -> int:
    if args.event is not None:
        if args.request or args.header or args.data is not None:
            raise SystemExit(
                "grpcgw: give an event file or --request (with --header, --data), not both"
            )
        text = _read_text(args.event, "event")
        try:
            event = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SystemExit(f"grpcgw: the event is not JSON: {exc}") from None
    elif args.request:
        method, target = args.request
        data = args.data
        if data is not None and data.startswith("@"):  # as curl: @file, @- for stdin
            data = _read_text(data[1:], "--data file")
        event = _synthetic_event(method.upper(), target, data, args.header)
    else:
        raise SystemExit("grpcgw: give an event file (or - for stdin), or --request METHOD PATH")
    if args.zip is not None:
        response = _invoke_zip(args, event)
        print(json.dumps(response, indent=2, ensure_ascii=False))
        return 0
    from grpcgw.lambdabuild._child import LocalContext

    # What the function prints goes to the log on Lambda: here to stderr, so that
    # standard output is the response alone (for jq and the like).
    with contextlib.redirect_stdout(sys.stderr):
        handler = _import(args.handler)
        response = handler(event, LocalContext(args.remaining_ms))
        stop = getattr(handler, "stop", None)
        if callable(stop):
            stop()
    print(json.dumps(response, indent=2, ensure_ascii=False))
    return 0


def _invoke_zip(args: argparse.Namespace, event: Any) -> Any:
    """``lambda-invoke --zip``: the handler inside a built zip, in a Python of its own."""
    from grpcgw.lambdabuild.errors import InvokeError
    from grpcgw.lambdabuild.invoke import invoke_zip

    if args.path:
        raise SystemExit("grpcgw: --path does not go with --zip: the zip is the whole import path")
    try:
        return invoke_zip(Path(args.zip), args.handler, event, remaining_ms=args.remaining_ms)
    except InvokeError as exc:
        raise SystemExit(f"grpcgw: {exc}") from None


def _services(specs: Sequence[str], imports: Sequence[str]) -> list[Any]:
    for module in imports:
        _import_module(module)
    out: list[Any] = []
    for spec in specs:
        if ":" in spec:
            obj = _import(spec)
            out.append(obj() if isinstance(obj, type) else obj)
        else:
            _check_imported(spec)
            out.append(spec)  # a full service name, resolved from the descriptor pool
    return out


def _check_imported(name: str) -> None:
    """Say, in the command's terms, what a service name unknown to the pool needs."""
    from google.protobuf import descriptor_pool

    try:
        descriptor_pool.Default().FindServiceByName(name.lstrip("."))
    except KeyError:
        raise SystemExit(
            f"grpcgw: unknown service {name!r}: give the module of its generated code with "
            "--import MODULE (and --path DIR where it is not importable from here), "
            "or its servicer as module:ServicerClass"
        ) from None


#: (client streaming, server streaming) -> what ``grpcgw routes`` says after the rpc.
_STREAMING = {
    (False, False): "",
    (False, True): "server streaming",
    (True, False): "client streaming",
    (True, True): "bidi streaming",
}


def _routes(args: argparse.Namespace) -> int:
    from grpcgw.gateway import Gateway
    from grpcgw.options import GatewayOptions

    options = GatewayOptions(expose_unannotated=args.expose_unannotated)
    gateway = Gateway(_services(args.service, args.imports), target="localhost:1", options=options)
    width = max((len(r.http_method) for r in gateway.routes), default=0)
    template_width = max((len(r.binding.template) for r in gateway.routes), default=0)
    for route in gateway.routes:
        line = f"{route.http_method:<{width}}  {route.binding.template:<{template_width}}"
        line += f"  ->  {route.rpc}"
        streaming = _STREAMING[route.spec.client_streaming, route.spec.server_streaming]
        if streaming:
            line += f"  ({streaming})"
        if route.binding.body:
            line += f'  body: "{route.binding.body}"'
        if route.binding.response_body:
            line += f'  response_body: "{route.binding.response_body}"'
        print(line.rstrip())
    return 0


def _openapi(args: argparse.Namespace) -> int:
    from grpcgw import openapi
    from grpcgw.options import GatewayOptions

    files = None
    services: list[Any] = []
    specs = list(args.service)
    if args.descriptor_set:
        import asyncio

        from grpcgw.proxy import load_descriptors

        # Names are services of the set (default: every annotated one); comments come
        # from it too (also for servicers given as module:Class, by file name).
        descriptors = asyncio.run(
            load_descriptors(
                descriptor_sets=[args.descriptor_set],
                services=[s for s in specs if ":" not in s],
                expose_unannotated=args.expose_unannotated,
            )
        )
        services.extend(descriptors.services)
        files = descriptors.files
        specs = [s for s in specs if ":" in s]
    elif not specs:
        raise SystemExit("grpcgw: give a service, or --descriptor-set FILE")
    services.extend(_services(specs, args.imports))
    options = GatewayOptions(
        expose_unannotated=args.expose_unannotated,
        strict=args.strict,
        use_proto_names=args.use_proto_names,
        enums_as_ints=args.enums_as_ints,
        openapi_path_names=args.openapi_path_names,
        openapi_security=[
            scheme
            for value in args.openapi_security or ()
            for scheme in value.split(",")
            if scheme.strip()
        ],
    )
    routes = openapi.compile_routes(services, options=options)
    document = openapi.build_document(
        routes,
        options=options,
        version=args.openapi,
        descriptor_set=files,
        title=args.title,
        api_version=args.api_version,
    )
    if args.format == "yaml":
        text = openapi.to_yaml(document)
    else:
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if args.output and args.output != "-":
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _proxy(args: argparse.Namespace) -> int:
    import asyncio

    from grpcgw.proxy._config import ConfigError, load_config, print_config, proxy_settings
    from grpcgw.settings import Layer

    values, origins = _flag_values(args, proxy_settings())
    if args.service:  # positional, as before: module:ServicerClass or full names
        names = _service_names(args.service)
        values["services"] = (*names, *values.get("services", ()))
        origins["services"] = "arguments"
    try:
        config, merged = load_config(Layer(values, origins), config_file=args.config)
    except ConfigError as exc:
        raise SystemExit(f"grpcgw: {exc}") from None
    if args.print_config:
        sys.stdout.write(print_config(config, merged.origins))
        return 0

    from grpcgw.proxy._serve import RunningProxy, configure_logging, run_proxy

    configure_logging(config)
    scheme = "https" if config.listen_tls.cert else "http"
    if config.workers > 1:
        return _proxy_workers(config, scheme)

    def listening(proxy: RunningProxy) -> None:
        address = config.http_address
        if not address.startswith("unix:"):  # the port bound, for port 0
            address = f"{address.rpartition(':')[0]}:{proxy.http_port}"
        _announce(
            config,
            f"grpcgw proxy: {scheme}://{address} -> {config.target} "
            f"({len(proxy.gateway.routes)} routes from {proxy.descriptors.origin})",
        )

    asyncio.run(run_proxy(config, started=listening))
    return 0


def _announce(config: ProxyConfig, line: str) -> None:
    """The proxy's "serving" line, on standard error whatever the log level: as it
    is, or with ``--log-format json`` as a JSON object like every other line there
    (a log pipeline that parses the container's output as JSON lines takes it)."""
    if config.log_format == "json":
        from grpcgw.logs import JsonFormatter

        record = logging.LogRecord("grpcgw.proxy", logging.INFO, __file__, 0, line, None, None)
        line = JsonFormatter().format(record)
    print(line, file=sys.stderr, flush=True)


def _proxy_workers(config: ProxyConfig, scheme: str) -> int:
    """``grpcgw proxy --workers N`` (N > 1): a supervisor of N forked proxies."""
    from grpcgw.httpserver import SharedAddress
    from grpcgw.proxy._workers import run_workers
    from grpcgw.workers import WorkersError

    def listening(shared: SharedAddress, pids: list[int]) -> None:
        # Each worker logs the routes it serves; the supervisor loads none.
        _announce(
            config,
            f"grpcgw proxy: {scheme}://{shared.address} -> {config.target} "
            f"({len(pids)} workers, pids {', '.join(map(str, pids))})",
        )

    try:
        run_workers(config, started=listening)
    except WorkersError as exc:
        raise SystemExit(f"grpcgw: {exc}") from None
    return 0


def _healthcheck(args: argparse.Namespace) -> int:
    import ssl
    import urllib.request

    from grpcgw.proxy._config import ConfigError, probe_url

    try:
        url = probe_url(ready=args.ready, config_file=args.config)
    except ConfigError as exc:
        print(f"grpcgw: {exc}", file=sys.stderr)
        return 1
    # Its own listener: the certificate is not checked (it names the service, not localhost).
    context = ssl._create_unverified_context() if url.startswith("https:") else None
    try:
        with urllib.request.urlopen(url, timeout=args.timeout, context=context) as resp:
            status = resp.status
    except OSError as exc:  # urllib's HTTPError (503) and URLError are OSErrors
        print(f"grpcgw: {url}: {exc}", file=sys.stderr)
        return 1
    return 0 if status == 200 else 1


def _service_names(specs: Sequence[str]) -> list[str]:
    """Full service names; a ``module:ServicerClass`` is imported and named by its service."""
    from grpcgw.descriptors import resolve_service

    return [
        resolve_service(obj() if isinstance(obj := _import(spec), type) else obj).full_name
        if ":" in spec
        else spec
        for spec in specs
    ]


def _flag_values(
    args: argparse.Namespace, settings: Sequence[Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The settings given as flags (see :func:`_settings_arguments`): key -> value, and
    key -> the flag it came from."""
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for setting in settings:
        if hasattr(args, f"setting_{setting.key}"):
            value = getattr(args, f"setting_{setting.key}")
            if setting.kind is tuple:  # appended once per flag, each maybe comma-separated
                value = tuple(item for part in value for item in part)
            values[setting.key] = value
            origins[setting.key] = setting.flags[0]
    return values, origins


def _settings_arguments(
    p: argparse.ArgumentParser, settings: Sequence[Any], with_help: bool, top: str
) -> None:
    """One flag per setting of a :mod:`grpcgw.settings` tree (``--no-x`` for booleans),
    grouped by TOML table; ``top`` names the settings of the root."""
    from grpcgw.settings import SettingsError, help_lines

    groups: dict[str, Any] = {}
    for setting in settings:
        table = setting.path[0] if len(setting.path) > 1 else top
        group = groups.get(table)
        if group is None:
            group = groups[table] = p.add_argument_group(f"[{table}]" if table != top else None)

        def parse(text: str, setting: Any = setting) -> Any:
            try:
                return setting.parse(text, setting.flags[0])
            except SettingsError as exc:  # argparse names the flag itself
                raise argparse.ArgumentTypeError(
                    str(exc).removeprefix(f"{setting.flags[0]}: ")
                ) from None

        common: dict[str, Any] = {
            "dest": f"setting_{setting.key}",
            "default": argparse.SUPPRESS,
            "help": help_lines(setting) if with_help else None,
        }
        if setting.kind is bool:
            p_action: Any = argparse.BooleanOptionalAction
            group.add_argument(*setting.flags, action=p_action, **common)
        elif setting.kind is tuple:
            items = "DIR" if setting.key.endswith("_dirs") else "NAME"
            group.add_argument(
                *setting.flags, action="append", type=parse, metavar=f"{items}[,...]", **common
            )
        else:
            choices = setting.choices
            if isinstance(setting.kind, type) and issubclass(setting.kind, enum.Enum):
                choices = tuple(str(member.value) for member in setting.kind)
            metavar = (
                "{" + ",".join(choices) + "}" if choices else setting.flag.upper().replace("-", "_")
            )
            group.add_argument(*setting.flags, type=parse, metavar=metavar, **common)


def _made(spec: str, form: str) -> Any:
    """The object ``module:attribute`` names; a class is made with no arguments."""
    if ":" not in spec:
        raise SystemExit(f"grpcgw: {spec!r} is not {form}")
    obj = _import(spec)
    return obj() if isinstance(obj, type) else obj


def _serve(args: argparse.Namespace) -> int:
    from grpcgw.serveconfig import load_serve_config, serve_settings
    from grpcgw.settings import Layer, SettingsError, to_toml

    values, origins = _flag_values(args, serve_settings())
    try:
        config, merged = load_serve_config(Layer(values, origins), config_file=args.config)
    except SettingsError as exc:
        raise SystemExit(f"grpcgw: {exc}") from None
    if args.print_config:
        head = "# grpcgw serve: the effective configuration (flag > environment > file > default)\n"
        sys.stdout.write(head + to_toml(serve_settings(), config, merged.origins))
        return 0
    if config.reload:
        return _serve_reloading(args, config, merged)
    servicers = [_made(spec, "module:ServicerClass") for spec in args.servicer]
    interceptors = [_made(spec, "module:InterceptorClass") for spec in config.interceptors]

    from grpcgw.invoker import check_dispatch
    from grpcgw.server import serve_local
    from grpcgw.workers import WorkersError

    try:
        serve_local(
            *servicers,
            http_address=config.http_address,
            grpc_address=config.grpc_address,
            reflection=config.reflection,
            grace=config.grace,
            log_format="json" if config.log_format == "json" else "text",
            log_level=config.log_level,
            limits=config.limits,
            dispatch=check_dispatch(config.dispatch, "grpcgw serve"),
            workers=config.workers,
            interceptors=interceptors,
            options=config.gateway,
        )
    except WorkersError as exc:
        raise SystemExit(f"grpcgw: {exc}") from None
    return 0


def _serve_reloading(args: argparse.Namespace, config: Any, merged: Any) -> int:
    """``grpcgw serve --reload``: the same command, ``--no-reload``, as a child process
    started again on each change (:mod:`grpcgw.reload`); it imports none of the
    servicers itself. Port 0 is chosen here, once, so every child listens alike."""
    from grpcgw.logs import configure
    from grpcgw.reload import FileWatcher, Reloader, fixed_port

    configure("json" if config.log_format == "json" else "text", config.log_level)
    command = [sys.executable, "-m", "grpcgw", *args.argv, "--no-reload"]
    command += ["--http-address", fixed_port(config.http_address)]
    command += ["--grpc-address", fixed_port(config.grpc_address)]
    dirs = list(config.reload_dirs) or [os.getcwd(), *args.path]
    for d in dirs:
        if not os.path.isdir(d):
            raise SystemExit(f"grpcgw: --reload-dir {d}: no such directory")
    config_file = args.config or os.environ.get("GRPCGW_CONFIG")
    files = [config_file] if config_file else []
    return Reloader(command, FileWatcher(dirs, files), grace=config.grace).run()


def _serve_parser(sub: Any, with_help: bool) -> None:
    """``grpcgw serve``: ``serve_local`` from the shell, configured as the proxy is."""
    from grpcgw.serveconfig import CONFIG_ENV, serve_settings

    p = sub.add_parser(
        "serve",
        help="serve servicers over gRPC and HTTP/JSON (serve_local), for development",
        description="Run servicers in a gRPC server and the HTTP/JSON gateway in front of "
        "it, as grpcgw.serve_local does; the API description and its explorer are at "
        "/openapi.json, /swagger.json and /docs. Every setting is a flag, a GRPCGW_* "
        "environment variable and a key of the TOML file given with --config, as for "
        "grpcgw proxy. See docs/options.md.",
    )
    p.add_argument(
        "servicer",
        nargs="+",
        help="module:ServicerClass (made with no arguments) or module:servicer_instance",
    )
    p.add_argument(
        "--config", metavar="FILE", help=f"a TOML file of settings (default: ${CONFIG_ENV})"
    )
    p.add_argument(
        "--print-config",
        action="store_true",
        help="print the effective configuration as TOML, with where each value came from, and exit",
    )
    _path_option(p)  # where the servicers' modules (and the code protoc wrote) are
    _settings_arguments(p, serve_settings(with_help=with_help), with_help, "serve")
    p.set_defaults(func=_serve)


def _proxy_parser(sub: Any, with_help: bool) -> None:
    """``grpcgw proxy``: one flag per setting of :class:`grpcgw.proxy.ProxyConfig`
    (``GatewayOptions`` included), derived from its fields; see docs/options.md."""
    from grpcgw.proxy._config import CONFIG_ENV, proxy_settings

    p = sub.add_parser(
        "proxy",
        help="serve HTTP/JSON in front of a running gRPC server",
        description="Serve the google.api.http rules of a running gRPC server as HTTP/JSON. "
        "Every setting is a flag, a GRPCGW_* environment variable and a key of the TOML "
        "file given with --config; a flag wins over the environment, which wins over the "
        "file. See docs/proxy.md and docs/options.md.",
    )
    p.add_argument(
        "service",
        nargs="*",
        help="services to serve: full names (as --service), or module:ServicerClass",
    )
    p.add_argument(
        "--config",
        metavar="FILE",
        help=f"a TOML file of settings (default: ${CONFIG_ENV})",
    )
    p.add_argument(
        "--print-config",
        action="store_true",
        help="print the effective configuration as TOML, with where each value came from, and exit",
    )
    _path_option(p)  # for --import and module:ServicerClass
    _settings_arguments(p, proxy_settings(with_help=with_help), with_help, "proxy")
    p.set_defaults(func=_proxy)


def _lambda_python(text: str) -> str:
    """``3.12`` or ``python3.12`` -> ``3.12``, one of the runtimes grpcgw runs on."""
    from grpcgw.lambdabuild import PYTHON_VERSIONS

    version = text.removeprefix("python")
    if version == "3.10":
        raise argparse.ArgumentTypeError(
            "grpcgw needs Python >= 3.11 (its requires-python), so it cannot run on "
            "Lambda's python3.10 runtime"
        )
    if version not in PYTHON_VERSIONS:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a Lambda Python runtime grpcgw runs on; "
            f"choose one of {', '.join(PYTHON_VERSIONS)}"
        )
    return version


def _lambda_build(args: argparse.Namespace) -> int:
    from grpcgw.lambdabuild import BuildError, build

    try:
        result = build(
            args.handler,
            source_dir=Path(args.source),
            output=Path(args.output),
            requirements=Path(args.requirements) if args.requirements else None,
            arch=args.arch,
            python_version=args.python,
            include=args.include,
            exclude=args.exclude,
            default_excludes=args.default_excludes,
            grpcgw_wheel=Path(args.grpcgw_wheel) if args.grpcgw_wheel else None,
            find_links=[Path(p) for p in args.find_links],
            compile_bytecode=args.compile,
            quiet=not args.verbose,
        )
    except BuildError as exc:
        print(f"grpcgw: {exc}", file=sys.stderr)
        return 1
    print(result.summary())
    return 0


#: What ``--version`` names beside grpcgw (what a bug report needs first).
_VERSIONED = ("grpcio", "protobuf", "googleapis-common-protos", "aiohttp", "awslambdaric")


def version_text() -> str:
    """``grpcgw 0.1.0 (Python 3.11.7 on Linux; grpcio 1.76.0, protobuf ...)``: read from
    the installed distributions' metadata, without importing them."""
    import platform
    from importlib import metadata

    from grpcgw import __version__

    parts = []
    for name in _VERSIONED:
        try:
            parts.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{name} not installed")
    where = f"Python {platform.python_version()} on {platform.system() or 'an unknown system'}"
    return f"grpcgw {__version__} ({where}; {', '.join(parts)})"


class _Version(argparse.Action):
    """``--version``, worked out only when asked for (argparse's own takes a fixed text)."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> None:
        print(version_text())
        parser.exit()


def _parser(with_help: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grpcgw", description="HTTP/JSON gateway for google.api.http annotated gRPC services."
    )
    parser.add_argument(
        "--version",
        action=_Version,
        help="print grpcgw's version and those of Python and its chief dependencies, then exit",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    inv = sub.add_parser(
        "lambda-invoke",
        help="run one Lambda HTTP event through a handler, locally, and print the response",
        description="Run one Lambda HTTP event through a handler and print the response "
        "(standard output: the response alone; what the function prints goes to standard "
        "error). The handler is imported from your project, or, with --zip, from a built "
        "deployment zip, in a fresh Python that sees only the zip and the standard library, "
        "as Lambda does. See docs/lambda.md.",
    )
    inv.add_argument("handler", help="module.attribute of the handler, e.g. app.handler")
    inv.add_argument(
        "--zip",
        metavar="ZIP",
        help="run the handler inside this deployment zip (grpcgw lambda-build's), unpacked "
        "into a temporary directory, with nothing else on the import path; refused if the "
        "zip was built for another Python or architecture",
    )
    inv.add_argument("event", nargs="?", help="event JSON file, or - for standard input")
    inv.add_argument(
        "--request",
        nargs=2,
        metavar=("METHOD", "PATH"),
        help="build an HTTP API v2 event instead, e.g. --request GET '/v1/ping?x=1'",
    )
    inv.add_argument(
        "--data", help="request body for --request; @FILE reads it from a file, @- from stdin"
    )
    inv.add_argument(
        "-H",
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="a request header for --request (repeatable), e.g. -H 'Authorization: Bearer t'",
    )
    inv.add_argument(
        "--remaining-ms", type=int, default=30_000, help="the context's remaining time"
    )
    _path_option(inv)
    inv.set_defaults(func=_lambda_invoke)

    lb = sub.add_parser(
        "lambda-build",
        help="build the AWS Lambda deployment zip of your project (managed Python runtime)",
        description="Build the deployment zip of a project for Lambda's managed Python "
        "runtime: your files under --source, grpcgw and your requirements as manylinux "
        "wheels for the chosen architecture and Python, without aiohttp unless your "
        "requirements need it. See docs/lambda.md.",
    )
    lb.add_argument("handler", help="the handler to configure, module.attribute: app.handler")
    lb.add_argument("--source", default=".", metavar="DIR", help="your project's root (default: .)")
    lb.add_argument(
        "--requirements", "-r", metavar="FILE", help="requirements file of your function"
    )
    lb.add_argument(
        "--arch",
        choices=["x86_64", "arm64"],
        default="x86_64",
        help="the function's architecture (default: %(default)s)",
    )
    lb.add_argument(
        "--python",
        type=_lambda_python,
        default="3.12",
        metavar="3.N",
        help="the runtime's Python: 3.11, 3.12, 3.13 or 3.14 (default: %(default)s)",
    )
    lb.add_argument(
        "--output", "-o", default="function.zip", metavar="ZIP", help="default: %(default)s"
    )
    lb.add_argument(
        "--include",
        action="append",
        default=[],
        metavar="PATTERN",
        help="take only these paths from the source (glob; repeatable)",
    )
    lb.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="PATTERN",
        help="leave these paths out (glob, e.g. docs or '*.md'; repeatable)",
    )
    lb.add_argument(
        "--no-default-excludes",
        dest="default_excludes",
        action="store_false",
        help="keep hidden files, tests, test and *.zip (left out by default)",
    )
    lb.add_argument(
        "--grpcgw-wheel",
        metavar="PATH",
        help="the grpcgw wheel to install (default: built from the grpcgw that runs)",
    )
    lb.add_argument(
        "--find-links",
        action="append",
        default=[],
        metavar="DIR",
        help="also look for wheels here (e.g. your own, built with pip wheel)",
    )
    lb.add_argument(
        "--compile",
        action="store_true",
        help="ship bytecode (Lambda cannot write it, so it compiles at every cold start); "
        "needs CPython of the --python version, running or on PATH",
    )
    lb.add_argument("--verbose", "-v", action="store_true", help="show pip's output")
    lb.set_defaults(func=_lambda_build)

    for name, func, text in (
        ("routes", _routes, "list the HTTP routes of some services"),
        ("openapi", _openapi, "write the OpenAPI document of some services"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument(
            "service",
            nargs="*" if name == "openapi" else "+",
            help="module:ServicerClass or a full service name (with --import of its _pb2)",
        )
        p.add_argument(
            "--import",
            dest="imports",
            action="append",
            default=[],
            metavar="MODULE",
            help="import a module first (e.g. the _pb2 module of a service given by name)",
        )
        p.add_argument(
            "--expose-unannotated",
            action="store_true",
            help="also serve methods without google.api.http as POST /pkg.Service/Method",
        )
        _path_option(p)
        p.set_defaults(func=func)
        if name == "openapi":
            _openapi_arguments(p)
    _serve_parser(sub, with_help=with_help)
    _proxy_parser(sub, with_help=with_help)
    hc = sub.add_parser(
        "healthcheck",
        help="ask this container's proxy for its liveness (or readiness): exit 0 if it answers 200",
        description="For container HEALTHCHECKs: reads the address, probe paths and TLS of "
        "the proxy from the same GRPCGW_* variables and config file the proxy reads.",
    )
    hc.add_argument("--ready", action="store_true", help="ask readiness instead of liveness")
    hc.add_argument("--config", metavar="FILE", help="the proxy's TOML file ($GRPCGW_CONFIG)")
    hc.add_argument("--timeout", type=float, default=2.0, help="seconds (default: %(default)s)")
    hc.set_defaults(func=_healthcheck)
    return parser


def _openapi_arguments(p: argparse.ArgumentParser) -> None:
    from grpcgw.options import PATH_NAMES

    p.add_argument("--openapi", choices=("3.1", "2.0"), default="3.1", help="document version")
    p.add_argument("--format", choices=("json", "yaml"), default="json")
    p.add_argument("-o", "--output", metavar="FILE", help="write here (default: standard output)")
    p.add_argument(
        "--descriptor-set",
        metavar="FILE",
        help="a FileDescriptorSet (protoc --include_imports --include_source_info): services "
        "by name from it (all of them if none is named) and comments as descriptions",
    )
    p.add_argument("--title", help="info.title (default: annotations, else the service names)")
    p.add_argument("--api-version", help="info.version (default: annotations, else 0.0.0)")
    p.add_argument("--strict", action="store_true", help="document GatewayOptions(strict=True)")
    p.add_argument("--use-proto-names", action="store_true", help="proto field names in JSON")
    p.add_argument("--enums-as-ints", action="store_true", help="enums as numbers in JSON")
    p.add_argument(
        "--openapi-path-names",
        choices=PATH_NAMES,
        default=PATH_NAMES[0],
        help="name the parameters of a variable like {name=shelves/*/books/*} after the field "
        "(shelves/{name}/books/{name_1}, the default) or after each collection "
        "(resource: shelves/{shelf}/books/{book})",
    )
    p.add_argument(
        "--openapi-security",
        action="append",
        metavar="NAME[,...]",
        help="document GatewayOptions(openapi_security=...): bearer, basic or "
        "header:<Name>, for the explorer's Authorize button (repeatable)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``grpcgw`` command."""
    argv = sys.argv[1:] if argv is None else list(argv)
    # Help texts come from the source of the settings' dataclasses: read only for --help.
    args = _parser(with_help="-h" in argv or "--help" in argv).parse_args(argv)
    args.argv = argv  # what serve --reload runs again, in a child process
    _extend_path(getattr(args, "path", ()))
    try:
        result: int = args.func(args)
        sys.stdout.flush()  # here, not at exit: a reader gone is the BrokenPipeError below
    except BrokenPipeError as exc:
        if not _stdout_gone():
            print(f"grpcgw: {exc}", file=sys.stderr)
            return 1
        # The reader stopped early (`grpcgw routes ... | head`): stop quietly, as a
        # command killed by SIGPIPE does (Python ignores the signal, for sockets'
        # sake), with its status; what is still buffered goes nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return _SIGPIPE_STATUS
    except (ImportError, ValueError, TypeError, OSError) as exc:
        if not _a_mistake(exc):
            raise  # unexpected: its traceback is what a bug report needs
        # What a user gets wrong (a module, a service, an event, a file, a setting):
        # one line, the message alone (it names the problem; the class adds nothing).
        print(f"grpcgw: {_one_line(exc)}", file=sys.stderr)
        return 1
    return result


def _one_line(exc: BaseException) -> str:
    """What the user reads of a mistake: its message, without the ``[Errno 98]`` that
    ``str()`` puts before an ``OSError``'s (the message names the problem)."""
    if isinstance(exc, OSError) and exc.errno is not None and exc.strerror:
        names = [repr(n) for n in (exc.filename, exc.filename2) if n is not None]
        return ": ".join([exc.strerror, " -> ".join(names)] if names else [exc.strerror])
    return str(exc)


#: What a shell reports for a command killed by SIGPIPE (128 + 13).
_SIGPIPE_STATUS = 141


def _stdout_gone() -> bool:
    """Whether standard output is a pipe whose reader has closed it."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        return True
    except (OSError, ValueError):
        return False
    try:  # nothing was left to flush: ask the descriptor
        import select

        poller = select.poll()
        poller.register(sys.stdout.fileno(), 0)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (AttributeError, OSError, ValueError):  # no poll() (Windows), no descriptor
        return False


def _a_mistake(exc: BaseException) -> bool:
    """Whether ``exc`` is about the user's input or machine: a module not found, a
    file or port (``OSError``), or a ``ValueError``/``TypeError`` that grpcgw raised
    on purpose (a ``raise`` statement of its own). The same classes raised by the
    user's code (a servicer's constructor) or by a slip in grpcgw's are not."""
    if isinstance(exc, (ImportError, OSError)):
        return True
    tb = exc.__traceback__
    if tb is None:
        return False
    from opcode import opmap

    while tb.tb_next is not None:
        tb = tb.tb_next
    code = tb.tb_frame.f_code
    # The innermost frame's instruction: RAISE_VARARGS for a raise statement, another
    # (a call, an operator) when the interpreter or a library raised it there. Its
    # module by name, not file: an install of .pyc files keeps the build's paths.
    raised = code.co_code[tb.tb_lasti] == opmap["RAISE_VARARGS"]
    module = str(tb.tb_frame.f_globals.get("__name__", ""))
    return raised and (module == "grpcgw" or module.startswith("grpcgw."))


if __name__ == "__main__":
    sys.exit(main())
