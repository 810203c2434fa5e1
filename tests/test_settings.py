"""grpcgw.settings: a dataclass tree as flags, environment variables and TOML."""

from __future__ import annotations

import enum
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from grpcgw import GatewayOptions, settings
from grpcgw.settings import Layer, SettingsError


class Mode(enum.Enum):
    FAST = "fast"
    SAFE = "safe"


@dataclass(frozen=True, kw_only=True)
class Inner:
    #: Where requests may come from.
    origins: Sequence[str]
    #: Seconds a browser keeps the answer.
    max_age: int | None = 600


@dataclass(frozen=True, kw_only=True)
class Options:
    #: Refuse what is unknown.
    strict: bool = False
    #: Seconds each call may take
    #: (two lines of comment).
    timeout: float | None = None
    mode: Mode = Mode.SAFE
    inner: Inner | None = None

    def __post_init__(self) -> None:
        if self.timeout is not None and self.timeout <= 0:
            raise ValueError(f"Options.timeout must be above 0, not {self.timeout}")


@dataclass(frozen=True, kw_only=True)
class Root:
    #: The server.
    target: str = ""
    names: tuple[str, ...] = field(default=(), metadata={"flag": "name", "aliases": ["nom"]})
    level: str = field(default="INFO", metadata={"choices": ("INFO", "DEBUG")})
    options: Options = field(default_factory=Options, metadata={"prefix": ""})


def test_the_tree_becomes_settings_with_names_types_and_help() -> None:
    found = {s.key: s for s in settings.describe(Root, with_help=True)}
    assert list(found) == [
        "target",
        "names",
        "level",
        "strict",
        "timeout",
        "mode",
        "inner_origins",
        "inner_max_age",
    ]
    timeout = found["timeout"]
    assert (timeout.kind, timeout.optional, timeout.default) == (float, True, None)
    assert (timeout.env, timeout.flags, timeout.toml) == (
        "GRPCGW_TIMEOUT",
        ("--timeout",),
        "options.timeout",
    )
    assert timeout.help == "Seconds each call may take (two lines of comment)."
    assert found["names"].flags == ("--name", "--nom")
    assert found["inner_origins"].toml == "options.inner.origins"
    assert found["inner_origins"].kind is tuple
    assert found["mode"].kind is Mode
    assert found["strict"].help == "Refuse what is unknown."
    assert settings.describe(Root)[0].help == ""  # help only when asked for


def test_text_values() -> None:
    found = {s.key: s for s in settings.describe(Root)}
    assert found["strict"].parse("Yes", "X") is True
    assert found["strict"].parse("off", "X") is False
    assert found["timeout"].parse("2.5", "X") == 2.5
    assert found["timeout"].parse("none", "X") is None
    assert found["mode"].parse("FAST", "X") is Mode.FAST
    assert found["names"].parse("a, b,,c", "X") == ("a", "b", "c")
    assert found["inner_max_age"].parse("7", "X") == 7
    assert found["level"].parse("debug", "X") == "DEBUG"  # a choice, case aside
    for key, text, message in [
        ("strict", "maybe", "GRPCGW_STRICT: 'maybe' is not true or false"),
        ("timeout", "soon", "'soon' is not a number (or none)"),
        ("timeout", "nan", "is not a number"),
        ("inner_max_age", "1.5", "is not an integer"),
        ("mode", "slow", "is not one of fast, safe"),
        ("level", "TRACE", "invalid choice: 'TRACE' (choose from INFO, DEBUG)"),
    ]:
        with pytest.raises(SettingsError, match=re.escape(message)):
            found[key].parse(text, "GRPCGW_STRICT" if key == "strict" else "X")


def test_layers_in_order_and_nested_optional_dataclasses() -> None:
    found = settings.describe(Root)
    document = tomllib.loads(
        'target = "from-file"\n[options]\nstrict = true\ntimeout = 3\n'
        '[options.inner]\norigins = ["https://a.example"]\n'
    )
    file = settings.from_toml(found, document, "f.toml")
    env = settings.from_env(
        found, {"GRPCGW_TARGET": "from-env", "PATH": "/bin", "GRPCGW_X": "1"}, ignore=["GRPCGW_X"]
    )
    flags = Layer({"timeout": 9.0}, {"timeout": "--timeout"})
    merged = settings.resolve(found, file, env, flags)
    root = settings.build(Root, found, merged)
    assert root.target == "from-env"
    assert root.options.strict is True
    assert root.options.timeout == 9.0
    assert root.options.inner == Inner(origins=("https://a.example",))
    assert merged.origins == {
        "target": "GRPCGW_TARGET",
        "strict": "f.toml: options.strict",
        "timeout": "--timeout",
        "inner_origins": "f.toml: options.inner.origins",
    }
    # A nested optional dataclass none of whose settings is given stays None.
    assert settings.build(Root, found, Layer({}, {})).options.inner is None


def test_unknown_names_and_bad_values_say_where() -> None:
    found = settings.describe(Root)
    with pytest.raises(
        SettingsError, match=r"GRPCGW_TIMOUT: no such setting \(did you mean GRPCGW_TIMEOUT\?\)"
    ):
        settings.from_env(found, {"GRPCGW_TIMOUT": "1"})
    with pytest.raises(
        SettingsError,
        match=r"f.toml: options.strct: no such setting \(did you mean options.strict\?\)",
    ):
        settings.from_toml(found, {"options": {"strct": True}}, "f.toml")
    with pytest.raises(SettingsError, match=r"f.toml: options.timeout: 'x' is not a number"):
        settings.from_toml(found, {"options": {"timeout": "x"}}, "f.toml")
    with pytest.raises(SettingsError, match=r"f\.toml: options\.strict: 1 is not true or false"):
        settings.from_toml(found, {"options": {"strict": 1}}, "f.toml")
    # The dataclass's own check, with where the value came from.
    layer = Layer({"timeout": -1.0}, {"timeout": "GRPCGW_TIMEOUT"})
    with pytest.raises(SettingsError, match=r"must be above 0, not -1.0 \(from GRPCGW_TIMEOUT\)"):
        settings.build(Root, found, layer)


def test_names_must_not_clash() -> None:
    @dataclass(frozen=True)
    class Twice:
        timeout: float = 1.0
        options: Options = field(default_factory=Options, metadata={"prefix": ""})

    with pytest.raises(TypeError, match="share the name 'timeout'"):
        settings.describe(Twice)


def test_toml_out_reads_back() -> None:
    found = settings.describe(Root)
    layer = Layer(
        {"target": 'a "b"', "timeout": 2.0, "inner_origins": ("x",), "mode": Mode.FAST},
        {"target": "--target", "timeout": "GRPCGW_TIMEOUT", "inner_origins": "f", "mode": "f"},
    )
    root = settings.build(Root, found, layer)
    text = settings.to_toml(found, root, layer.origins)
    assert 'target = "a \\"b\\""  # --target' in text
    assert "max_age = 600" in text
    again = settings.build(Root, found, settings.from_toml(found, tomllib.loads(text), "out"))
    assert again == root


def test_help_texts_are_plain_text() -> None:
    """Help comes from the ``#:`` comments the API reference renders, whose reST
    markup means nothing in ``grpcgw serve --help`` or docs/options.md: roles
    become the name they point to, double backquotes go."""
    from grpcgw.proxy import ProxyConfig
    from grpcgw.serveconfig import ServeConfig

    found = {
        s.path: s.help
        for root in (ServeConfig, ProxyConfig)
        for s in settings.describe(root, with_help=True)
    }
    assert found[("gateway", "access_log")].endswith(
        "off for serve_lambda and a Gateway of your own."
    )
    marked = {
        path: text for path, text in found.items() if "`" in text or re.search(r":\w+:", text)
    }
    assert marked == {}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("strict", 1, "GatewayOptions.strict must be a bool, not 1"),
        ("use_proto_names", "no", "GatewayOptions.use_proto_names must be a bool, not 'no'"),
        ("websocket", None, "GatewayOptions.websocket must be a bool, not None"),
        (
            "unescape_mode",
            "all_except_slash",
            "GatewayOptions.unescape_mode must be one of UnescapeMode.ALL_EXCEPT_RESERVED, "
            "UnescapeMode.ALL_EXCEPT_SLASH, UnescapeMode.ALL_CHARACTERS, not 'all_except_slash'",
        ),
    ],
)
def test_gateway_options_of_the_wrong_kind_fail_when_made(
    field: str, value: object, message: str
) -> None:
    """Not later, as a KeyError while the routes are compiled or a truthy string
    taken for True."""
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        GatewayOptions(**{field: value})  # type: ignore[arg-type]
