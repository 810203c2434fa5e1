"""Architecture rules that a refactor could silently break."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import grpcgw

from .conftest import ROOT

_BLOCK = textwrap.dedent(
    """
    import sys
    class Block:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {blocked!r}:
                raise ImportError("blocked for this test: " + name)
    sys.meta_path.insert(0, Block())
    """
)


def _run(code: str, blocked: set[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _BLOCK.format(blocked=blocked) + textwrap.dedent(code)],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT / "src")},
        capture_output=True,
        text=True,
    )


def test_pure_modules_import_without_aiohttp_or_grpc() -> None:
    result = _run(
        """
        import grpcgw.httprule, grpcgw.routing, grpcgw.options, grpcgw.errors, grpcgw.metadata
        import grpcgw.transcode, grpcgw.protojson, grpcgw.streaming, grpcgw.descriptors
        import grpcgw.invoker, grpcgw.exchange, grpcgw.driver, grpcgw.gateway, grpcgw.limits
        import grpcgw.protojson._strict, grpcgw.protojson._check, grpcgw.protojson._codecs
        import grpcgw.cors, grpcgw.logs, grpcgw.lazyre, grpcgw.records, grpcgw.contentcoding
        import grpcgw.proxy, grpcgw.proxy._files, grpcgw.proxy._source, grpcgw.proxy._reload
        import grpcgw.proxy._config, grpcgw.settings, grpcgw.listen, grpcgw.http11
        import grpcgw.binding, grpcgw.protoopts, grpcgw.openapi, grpcgw.apidocs, grpcgw.explorer
        import grpcgw.openapi._security
        import grpcgw.feed, grpcgw.wssession, grpcgw.wsframes
        """,
        {"aiohttp", "grpc"},
    )
    assert result.returncode == 0, result.stderr


def test_lambda_build_needs_only_the_stdlib() -> None:
    """The build runs pip in a subprocess and reads files: no grpc, protobuf or aiohttp;
    so does ``lambda-invoke --zip``, whose handler runs in another process."""
    result = _run(
        """
        import grpcgw.lambdabuild, grpcgw.lambdabuild.source, grpcgw.lambdabuild.wheels
        import grpcgw.lambdabuild.archive, grpcgw.lambdabuild.bytecode
        import grpcgw.lambdabuild.invoke, grpcgw.lambdabuild.target, grpcgw.lambdabuild._child
        """,
        {"aiohttp", "grpc", "google"},
    )
    assert result.returncode == 0, result.stderr


def test_template_engine_cors_logs_limits_settings_and_explorer_need_only_the_stdlib() -> None:
    result = _run(
        "import grpcgw.httprule, grpcgw.routing, grpcgw.cors, grpcgw.logs, grpcgw.limits\n"
        "import grpcgw.records, grpcgw.contentcoding, grpcgw.reload, grpcgw.compression\n"
        "import grpcgw.settings, grpcgw.serveconfig, grpcgw.explorer, grpcgw.workers\n"
        "import grpcgw.wsframes",
        {"aiohttp", "grpc", "google"},
    )
    assert result.returncode == 0, result.stderr


def test_gateway_core_does_not_import_aiohttp() -> None:
    result = _run(
        """
        import sys, grpcgw
        from grpcgw.gateway import Gateway
        import grpcgw.channel, grpcgw.grpcserver, grpcgw.reflection, grpcgw.proxy._reflect
        import grpcgw.dispatch
        assert "aiohttp" not in sys.modules
        """,
        {"aiohttp"},
    )
    assert result.returncode == 0, result.stderr


def test_openapi_and_the_explorer_are_not_imported_by_the_core_or_the_lambda_path() -> None:
    result = _run(
        """
        import sys, grpcgw
        from grpcgw.gateway import Gateway
        import grpcgw.awslambda
        loaded = sorted(
            m for m in sys.modules
            if m.startswith(("grpcgw.openapi", "grpcgw.apidocs", "grpcgw.explorer"))
            or m.split(".")[0] in ("yaml", "swagger_ui_bundle", "jinja2")
        )
        assert not loaded, loaded
        """,
        {"aiohttp"},
    )
    assert result.returncode == 0, result.stderr


def test_the_lambda_path_defines_cors_and_tls_only_when_configured() -> None:
    """Cold start: grpcgw.cors (CorsOptions and the policy) loads only for a handler
    with CORS, grpcgw.tls (TLSConfig) never; both stay importable where they were."""
    result = _run(
        """
        import sys
        import grpcgw
        from examples.ping.service import PingServicer
        for dispatch in ("socket", "direct"):
            handler = grpcgw.serve_lambda(PingServicer(), dispatch=dispatch)
            handler.stop()
        loaded = sorted(m for m in ("grpcgw.cors", "grpcgw.tls") if m in sys.modules)
        assert not loaded, loaded
        from grpcgw.options import CorsOptions, GatewayOptions
        from grpcgw.channel import TLSConfig
        assert CorsOptions is grpcgw.CorsOptions and TLSConfig is grpcgw.TLSConfig
        options = GatewayOptions(cors=CorsOptions(allow_origins=["https://a.example"]))
        grpcgw.serve_lambda(PingServicer(), options=options).stop()
        assert "grpcgw.cors" in sys.modules
        """,
        {"aiohttp"},
    )
    assert result.returncode == 0, result.stderr


def test_import_grpcgw_is_cheap() -> None:
    result = _run(
        """
        import sys, grpcgw
        heavy = sorted(m for m in ("aiohttp", "grpc", "google.protobuf") if m in sys.modules)
        assert not heavy, heavy
        """,
        set(),
    )
    assert result.returncode == 0, result.stderr


def test_public_api() -> None:
    for name in grpcgw.__all__:
        assert getattr(grpcgw, name) is not None, name
    assert grpcgw.web.create_app is not None


def test_the_servers_import_where_signals_are_few() -> None:
    """Windows has no SIGCHLD, SIGHUP, fork or SO_REUSEPORT: serve_local, the proxy and
    the CLI must still import there (workers=1 needs none of them)."""
    result = _run(
        """
        import signal
        for name in ("SIGCHLD", "SIGHUP"):
            delattr(signal, name)
        import grpcgw.server, grpcgw.workers, grpcgw.proxy._serve, grpcgw.proxy._workers
        import grpcgw.cli
        assert grpcgw.workers.STOP_SIGNALS == (signal.SIGTERM, signal.SIGINT)
        """,
        set(),
    )
    assert result.returncode == 0, result.stderr
