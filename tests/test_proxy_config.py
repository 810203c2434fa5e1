"""The proxy's configuration: every option as a flag, a GRPCGW_* variable and a TOML key."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest

from grpcgw.options import GatewayOptions
from grpcgw.proxy import ConfigError, ProxyConfig, load_config
from grpcgw.proxy._config import print_config, proxy_settings
from grpcgw.settings import Layer

from .proxyutil import run_proxy

NO_FLAGS = Layer({}, {})


def test_every_gateway_option_is_a_flag_a_variable_and_a_key() -> None:
    by_path = {s.path: s for s in proxy_settings(with_help=True)}
    for f in dataclasses.fields(GatewayOptions):
        if dataclasses.is_dataclass(f.type) or "Options" in str(f.type):
            # A nested dataclass (CorsOptions): each of its fields, under its name.
            assert any(p[:2] == ("gateway", f.name) for p in by_path), f.name
            continue
        setting = by_path[("gateway", f.name)]
        assert setting.flags[0] == "--" + f.name.replace("_", "-")
        assert setting.env == "GRPCGW_" + f.name.upper()
        assert setting.help, f"GatewayOptions.{f.name} has no #: comment"
    # ...and the proxy's own: descriptors, TLS both ways, probes, logging.
    keys = {s.key for s in by_path.values()}
    assert {
        "target",
        "reflect",
        "descriptor_sets",
        "reload_interval",
        "target_ca",
        "tls_cert",
        "ready_path",
        "shutdown_grace",
        "log_format",
    } <= keys


def test_flag_over_environment_over_file_over_default(tmp_path: Path) -> None:
    config_file = tmp_path / "proxy.toml"
    config_file.write_text(
        'target = "file:1"\nreflect = true\nready_path = "/ready"\n'
        '[gateway]\ntimeout = 1.0\nstrict = true\nunescape_mode = "all_characters"\n'
    )
    environ = {"GRPCGW_TARGET": "env:2", "GRPCGW_TIMEOUT": "2", "GRPCGW_INDENT": "2"}
    flags = Layer({"timeout": 3.0}, {"timeout": "--timeout"})
    config, merged = load_config(flags, environ, config_file)
    assert config.target == "env:2"
    assert config.gateway.timeout == 3.0
    assert config.gateway.indent == 2
    assert config.gateway.strict is True
    assert config.ready_path == "/ready"
    assert config.live_path == "/livez"  # the default
    assert config.gateway.unescape_mode.value == "all_characters"
    assert merged.origins["timeout"] == "--timeout"
    assert merged.origins["target"] == "GRPCGW_TARGET"
    assert merged.origins["strict"] == f"{config_file}: gateway.strict"
    # Nested and neighbouring dataclasses: CORS (made when any of its settings is
    # given) and the edge limits.
    more, _ = load_config(
        NO_FLAGS,
        {
            **environ,
            "GRPCGW_CORS_ALLOW_ORIGINS": "https://a.example,https://*.b.example",
            "GRPCGW_CORS_MAX_AGE": "60",
            "GRPCGW_MAX_CONNECTIONS": "50",
            "GRPCGW_BODY_TIMEOUT": "none",
        },
        config_file,
    )
    assert more.gateway.cors is not None
    assert tuple(more.gateway.cors.allow_origins) == ("https://a.example", "https://*.b.example")
    assert more.gateway.cors.max_age == 60
    assert config.gateway.cors is None
    assert (more.limits.max_connections, more.limits.body_timeout) == (50, None)
    # GRPCGW_CONFIG names the file when --config does not.
    by_env, _ = load_config(NO_FLAGS, {"GRPCGW_CONFIG": str(config_file)})
    assert by_env.target == "file:1"


def test_printed_configuration_reads_back(tmp_path: Path) -> None:
    environ = {
        "GRPCGW_TARGET": "localhost:1",
        "GRPCGW_DESCRIPTOR_SETS": "a.binpb,b.binpb",
        "GRPCGW_CONNECT_TIMEOUT": "none",
        "GRPCGW_TARGET_CA": "/ca.pem",
    }
    config, merged = load_config(NO_FLAGS, environ)
    text = print_config(config, merged.origins)
    assert 'descriptor_sets = ["a.binpb", "b.binpb"]  # GRPCGW_DESCRIPTOR_SETS' in text
    assert 'connect_timeout = "none"  # GRPCGW_CONNECT_TIMEOUT' in text
    assert "[target_tls]" in text
    assert "[gateway]" in text
    saved = tmp_path / "printed.toml"
    saved.write_text(text)
    tomllib.loads(text)
    again, _ = load_config(NO_FLAGS, {}, saved)
    assert again == config


@pytest.mark.parametrize(
    ("environ", "file_text", "message"),
    [
        (
            {"GRPCGW_TIMOUT": "1"},
            None,
            "GRPCGW_TIMOUT: no such setting (did you mean GRPCGW_TIMEOUT?)",
        ),
        ({"GRPCGW_TIMEOUT": "soon"}, None, "GRPCGW_TIMEOUT: 'soon' is not a number (or none)"),
        (
            {"GRPCGW_TIMEOUT": "-1"},
            None,
            "GatewayOptions.timeout must be a number of seconds above 0, not -1.0 "
            "(from GRPCGW_TIMEOUT)",
        ),
        ({}, "[gateway]\nstrict = 1\n", "gateway.strict: 1 is not true or false"),
        ({}, "[gatway]\nstrict = true\n", "gatway: no such setting (did you mean gateway?)"),
        ({}, "target = \n", "config file"),
        ({"GRPCGW_REFLECT": "true"}, None, "no target: give --target, GRPCGW_TARGET"),
        (
            {"GRPCGW_TARGET": "x:1", "GRPCGW_REFLECT": "1", "GRPCGW_IMPORTS": "m"},
            None,
            "give one source of descriptors, not --reflect (reflect) and --import (imports)",
        ),
        (
            {"GRPCGW_TARGET": "x:1"},
            None,
            "no descriptors: give --reflect (ask the target), --descriptor-set FILE",
        ),
        (
            {"GRPCGW_TARGET": "x:1", "GRPCGW_REFLECT": "1", "GRPCGW_TLS_CERT": "c.pem"},
            None,
            "listener TLS: give both tls_cert and tls_key",
        ),
        (
            {"GRPCGW_TARGET": "x:1", "GRPCGW_REFLECT": "1", "GRPCGW_READY_PATH": "readyz"},
            None,
            "ready_path must start with /",
        ),
    ],
)
def test_bad_configuration(
    tmp_path: Path, environ: dict[str, str], file_text: str | None, message: str
) -> None:
    config_file = None
    if file_text is not None:
        config_file = tmp_path / "c.toml"
        config_file.write_text(file_text)
    with pytest.raises(ConfigError) as info:
        load_config(NO_FLAGS, environ, config_file)
    assert message in str(info.value)


def test_print_config_from_the_command_line(tmp_path: Path) -> None:
    """The real command: a file, the environment and flags; TOML out, with sources."""
    config_file = tmp_path / "proxy.toml"
    config_file.write_text('target = "file:1"\n[gateway]\nstrict = true\ntimeout = 1.0\n')
    result = run_proxy(
        tmp_path,
        "--config",
        str(config_file),
        "--print-config",
        "--timeout",
        "3",
        "--no-emit-unpopulated",
        "--descriptor-set",
        "a.binpb,b.binpb",
        "--descriptor-set",
        "c.binpb",
        "example.v1.PingService",
        env={"GRPCGW_TARGET": "env:2", "GRPCGW_TIMEOUT": "2"},
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert 'target = "env:2"  # GRPCGW_TARGET' in out
    assert "timeout = 3.0  # --timeout" in out
    assert f"strict = true  # {config_file}: gateway.strict" in out
    assert "emit_unpopulated = false  # --emit-unpopulated" in out
    assert 'descriptor_sets = ["a.binpb", "b.binpb", "c.binpb"]  # --descriptor-set' in out
    assert 'services = ["example.v1.PingService"]  # arguments' in out
    assert 'http_address = "127.0.0.1:0"  # --http-address' in out
    assert "enums_as_ints = false\n" in out  # a default: no source
    printed = tmp_path / "printed.toml"
    printed.write_text(out)
    config, _ = load_config(NO_FLAGS, {}, printed)
    assert config.gateway.timeout == 3.0
    assert isinstance(config, ProxyConfig)


def test_configuration_errors_are_one_line(tmp_path: Path) -> None:
    result = run_proxy(
        tmp_path, "--print-config", "--reflect", env={"GRPCGW_TARGET": "x:1", "GRPCGW_STRCT": "1"}
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "grpcgw: GRPCGW_STRCT: no such setting (did you mean GRPCGW_STRICT?)"
    ]
    bad_flag = run_proxy(tmp_path, "--target", "x:1", "--reflect", "--timeout", "soon")
    assert bad_flag.returncode == 2  # argparse's usage error
    assert "--timeout: 'soon' is not a number (or none)" in bad_flag.stderr
    assert "Traceback" not in bad_flag.stderr + result.stderr


def test_help_lists_every_setting_with_its_variable(tmp_path: Path) -> None:
    out = run_proxy(tmp_path, "--help").stdout
    for setting in proxy_settings():
        assert setting.flags[0] in out, setting.key
        assert setting.env in out, setting.key


def test_docs_list_every_setting() -> None:
    """docs/options.md has a row per setting: its TOML key, flags and variable."""
    from .conftest import ROOT

    rows = {
        line.split("|")[1].strip().strip("`"): line
        for line in (ROOT / "docs" / "options.md").read_text().splitlines()
        if line.startswith("| `")
    }
    for setting in proxy_settings():
        row = rows.get(setting.toml)
        assert row is not None, f"docs/options.md has no row for {setting.toml}"
        assert f"`{setting.env}`" in row
        for flag in setting.flags:
            assert f"`{flag}`" in row
