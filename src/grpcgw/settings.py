"""Settings from dataclasses: one description, read from flags, environment variables and TOML.

A tree of frozen dataclasses (a root whose fields may be dataclasses in turn,
like ``GatewayOptions`` inside the proxy's configuration) is walked once into
:class:`Setting` leaves. Each leaf is then available, with no code of its own,
as a command-line flag (``--max-request-body``), an environment variable
(``GRPCGW_MAX_REQUEST_BODY``) and a key of a TOML file (``max_request_body``
in the ``[gateway]`` table); its type (from the annotation), its default and
its help text (from the field's ``#:`` comment) come from the dataclass, so a
field added to a dataclass is configurable everywhere at once.

Names: a leaf's *key* is its field name, prefixed by the key prefix of each
dataclass field above it (by default that field's name and ``_``; a field's
metadata may give another with ``{"prefix": ""}``); flags and environment
variables are made from keys, which must be unique. TOML follows the tree:
one table per dataclass field. Field metadata may also give ``flag`` (another
flag name), ``aliases`` (more flag names), ``choices`` and ``help``.

Values from text (flags, environment variables): ``true``/``false`` (also
``1``/``0``, ``yes``/``no``, ``on``/``off``) for booleans; numbers; an enum's
value or name; ``none`` for an optional value; comma-separated lists. TOML
gives typed values; ``"none"`` unsets an optional value there too.

Precedence: flag > environment > file > default (:func:`resolve`).

Pure: the standard library only.
"""

from __future__ import annotations

import ast
import dataclasses
import enum
import functools
import json
import math
import os
import re
import sys
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

__all__ = [
    "ENV_PREFIX",
    "Layer",
    "Setting",
    "SettingsError",
    "build",
    "describe",
    "from_env",
    "from_toml",
    "help_lines",
    "load",
    "read_config_file",
    "resolve",
    "to_toml",
]

ENV_PREFIX: Final = "GRPCGW_"
_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off"})


class SettingsError(ValueError):
    """A setting that cannot be taken: the message names it and where it came from."""


@dataclass(frozen=True, slots=True)
class Setting:
    """One configurable leaf of a dataclass tree."""

    #: Field names from the root: ``("gateway", "cors", "allow_origins")``.
    path: tuple[str, ...]
    #: Unique flat name: flags are ``--`` + key with dashes, variables ``GRPCGW_`` + KEY.
    key: str
    #: The value's type, without ``None``: ``bool``, ``int``, ``float``, ``str``,
    #: an enum class, or ``tuple`` (of strings).
    kind: type
    optional: bool
    default: Any
    help: str
    flag: str
    aliases: tuple[str, ...] = ()
    choices: tuple[str, ...] | None = None

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.key.upper()

    @property
    def flags(self) -> tuple[str, ...]:
        return ("--" + self.flag, *("--" + a for a in self.aliases))

    @property
    def toml(self) -> str:
        """The dotted TOML name: ``gateway.cors.allow_origins``."""
        return ".".join(self.path)

    # -- values -------------------------------------------------------------------

    def parse(self, text: str, where: str) -> Any:
        """The value of ``text`` (a flag or environment variable); ``where`` names it."""
        text = text.strip()
        if self.optional and text.lower() == "none":
            return None
        kind = self.kind
        try:
            if kind is bool:
                lowered = text.lower()
                if lowered in _TRUE:
                    return True
                if lowered in _FALSE:
                    return False
                raise ValueError("expected true or false")
            if kind is int:
                return int(text)
            if kind is float:
                value = float(text)
                if math.isnan(value):
                    raise ValueError("not a number")
                return value
            if kind is tuple:
                return tuple(part.strip() for part in text.split(",") if part.strip())
            if issubclass(kind, enum.Enum):
                return _enum(kind, text)
        except ValueError:
            raise SettingsError(f"{where}: {text!r} is {self._expected()}") from None
        return self._choose(text, where)

    def take(self, value: Any, where: str) -> Any:
        """A TOML value checked against the type (``"none"`` unsets an optional one)."""
        if self.optional and isinstance(value, str) and value.lower() == "none":
            return None
        kind = self.kind
        ok: bool
        if kind is bool:
            ok = isinstance(value, bool)
        elif kind is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif kind is float:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            value = float(value) if ok else value
        elif kind is tuple:
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
            value = tuple(value) if ok else value
        elif issubclass(kind, enum.Enum):
            if isinstance(value, str):
                try:
                    return _enum(kind, value)
                except ValueError:
                    pass
            ok = False
        else:
            ok = isinstance(value, str)
            if ok:
                return self._choose(value, where)
        if not ok:
            raise SettingsError(f"{where}: {value!r} is {self._expected()}")
        return value

    def _choose(self, text: str, where: str) -> str:
        """``text``, or the choice it names (case aside)."""
        if self.choices is None or text in self.choices:
            return text
        for choice in self.choices:
            if text.lower() == choice.lower():
                return choice
        raise SettingsError(
            f"{where}: invalid choice: {text!r} (choose from {', '.join(self.choices)})"
        )

    def _expected(self) -> str:
        kind = self.kind
        if kind is bool:
            what = "not true or false"
        elif kind is int:
            what = "not an integer"
        elif kind is float:
            what = "not a number"
        elif kind is tuple:
            what = "not a list of strings"
        elif issubclass(kind, enum.Enum):
            what = "not one of " + ", ".join(str(m.value) for m in kind)
        else:
            what = "not a string"
        return what + (" (or none)" if self.optional else "")

    def show(self, value: Any) -> str:
        """``value`` as TOML."""
        if value is None:
            return '"none"'
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, enum.Enum):
            return json.dumps(value.value)
        if isinstance(value, float):
            return ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
        if isinstance(value, int):
            return str(value)
        if isinstance(value, tuple | list):
            return "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in value) + "]"
        return json.dumps(value, ensure_ascii=False)


def _enum(kind: type[enum.Enum], text: str) -> enum.Enum:
    for member in kind:
        if text.lower() in (str(member.value).lower(), member.name.lower()):
            return member
    raise ValueError("not one of " + ", ".join(str(m.value) for m in kind))


# -- the tree ----------------------------------------------------------------------


@functools.cache
def _module_source(name: str) -> tuple[list[str], ast.Module] | None:
    module = sys.modules.get(name)
    path = getattr(module, "__file__", None)
    if path is None:
        return None
    try:
        source = Path(path).read_text(encoding="utf-8")
    except OSError:  # no source (a frozen application): no help text
        return None
    return source.splitlines(), ast.parse(source)


def _field_comments(cls: type) -> dict[str, str]:
    """The ``#:`` comments above each field of ``cls`` (what Sphinx documents them by)."""
    found = _module_source(cls.__module__)
    if found is None:
        return {}
    lines, tree = found
    node = next(
        (n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls.__name__), None
    )
    if node is None:
        return {}
    out: dict[str, str] = {}
    for item in node.body:
        if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            node_line = item.lineno
            comment: list[str] = []
            row = node_line - 2
            while row >= 0 and lines[row].strip().startswith("#:"):
                comment.insert(0, lines[row].strip()[2:].strip())
                row -= 1
            if comment:
                out[item.target.id] = _plain(" ".join(comment))
    return out


#: A Sphinx cross-reference: ``:class:`~grpcgw.Gateway```, ``:func:`serve_lambda```.
_ROLE = re.compile(r":[a-z]+:`(~?)([^`]+)`")


def _plain(text: str) -> str:
    """A ``#:`` comment as the plain text of ``--help`` and docs/options.md: no
    double backquotes, and a cross-reference as its name (``~`` keeps the last part,
    as Sphinx shows it)."""
    text = _ROLE.sub(lambda m: m[2].rsplit(".", 1)[-1] if m[1] else m[2], text)
    return text.replace("``", "")


def _unwrap(hint: Any) -> tuple[Any, bool]:
    """``X | None`` -> ``(X, True)``."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return rest[0], True
    return hint, False


def _kind(hint: Any, where: str) -> type:
    origin = typing.get_origin(hint)
    if origin in (tuple, list, Sequence, typing.Sequence) or hint in (tuple, list):
        args = [a for a in typing.get_args(hint) if a is not Ellipsis]
        if all(a is str for a in args):
            return tuple
    if isinstance(hint, type) and (hint in (bool, int, float, str) or issubclass(hint, enum.Enum)):
        return hint
    raise TypeError(f"{where}: a setting cannot be of type {hint!r}")


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


@functools.cache
def describe(root: type, *, with_help: bool = False) -> tuple[Setting, ...]:
    """Every leaf of the dataclass tree under ``root``, in declaration order;
    ``with_help`` reads the help texts from the source (for ``--help`` and docs)."""
    out: list[Setting] = []
    _walk(root, (), "", out, with_help)
    keys: dict[str, Setting] = {}
    for setting in out:
        for name in (setting.key, setting.flag, *setting.aliases):
            clash = keys.get(name)
            if clash is not None and clash is not setting:
                raise TypeError(f"settings {clash.toml} and {setting.toml} share the name {name!r}")
            keys[name] = setting
    return tuple(out)


def _walk(
    cls: type, path: tuple[str, ...], prefix: str, out: list[Setting], with_help: bool
) -> None:
    hints = typing.get_type_hints(cls)
    comments = _field_comments(cls) if with_help else {}
    for f in dataclasses.fields(cls):
        if not f.init or f.name.startswith("_"):
            continue
        hint, optional = _unwrap(hints[f.name])
        where = f"{cls.__name__}.{f.name}"
        if dataclasses.is_dataclass(hint) and isinstance(hint, type):
            inner = f.metadata.get("prefix", f"{f.name}_")
            _walk(hint, (*path, f.name), prefix + inner, out, with_help)
            continue
        default = _default(f)
        key = prefix + f.name
        choices = f.metadata.get("choices")
        out.append(
            Setting(
                path=(*path, f.name),
                key=key,
                kind=_kind(hint, where),
                optional=optional,
                default=default,
                help=str(f.metadata.get("help") or comments.get(f.name, "")),
                flag=str(f.metadata.get("flag", key)).replace("_", "-"),
                aliases=tuple(a.replace("_", "-") for a in f.metadata.get("aliases", ())),
                choices=None if choices is None else tuple(choices),
            )
        )


# -- layers ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Layer:
    """Values from one source: setting key -> value, and where each came from."""

    values: Mapping[str, Any]
    #: setting key -> ``--flag``, ``GRPCGW_X`` or ``file.toml: table.key``
    origins: Mapping[str, str]


def from_env(
    settings: Sequence[Setting], environ: Mapping[str, str], *, ignore: Iterable[str] = ()
) -> Layer:
    """The ``GRPCGW_*`` variables of ``environ``; an unknown one is an error (a typo
    would otherwise be ignored). ``ignore``: other variables of the prefix."""
    by_env = {s.env: s for s in settings}
    skip = set(ignore)
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for name, text in environ.items():
        if not name.startswith(ENV_PREFIX) or name in skip:
            continue
        setting = by_env.get(name)
        if setting is None:
            raise SettingsError(f"{name}: no such setting{_close(name, by_env)}")
        values[setting.key] = setting.parse(text, name)
        origins[setting.key] = name
    return Layer(values, origins)


def from_toml(settings: Sequence[Setting], document: Mapping[str, Any], where: str) -> Layer:
    """The values of a parsed TOML document (``tomllib.load``); an unknown key is an error."""
    by_path = {s.path: s for s in settings}
    tables = {s.path[:i] for s in settings for i in range(1, len(s.path))}
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}

    def walk(table: Mapping[str, Any], path: tuple[str, ...]) -> None:
        for name, value in table.items():
            here = (*path, name)
            dotted = ".".join(here)
            setting = by_path.get(here)
            if setting is not None:
                values[setting.key] = setting.take(value, f"{where}: {dotted}")
                origins[setting.key] = f"{where}: {dotted}"
            elif here in tables and isinstance(value, dict):
                walk(value, here)
            else:
                known = {".".join(p) for p in by_path} | {".".join(t) for t in tables}
                raise SettingsError(f"{where}: {dotted}: no such setting{_close(dotted, known)}")

    walk(document, ())
    return Layer(values, origins)


def _close(name: str, known: Iterable[str]) -> str:
    import difflib

    match = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {match[0]}?)" if match else ""


def resolve(settings: Sequence[Setting], *layers: Layer) -> Layer:
    """The layers merged, the later winning: give file, environment, flags in that order."""
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for layer in layers:
        values.update(layer.values)
        origins.update(layer.origins)
    return Layer(values, origins)


def load(
    root: type,
    flags: Layer,
    environ: Mapping[str, str],
    config_file: str | os.PathLike[str] | None,
    *,
    ignore_env: Iterable[str] = (),
) -> tuple[Any, Layer]:
    """An instance of ``root`` from its four sources, each over the one before:
    defaults, the TOML ``config_file`` (if any), the ``GRPCGW_*`` variables of
    ``environ`` (``ignore_env``: others of the prefix that are not settings) and
    ``flags`` (a layer made from the command line); returns it with where each
    value came from. Raises :class:`SettingsError` naming the value at fault."""
    settings = describe(root)
    layers = []
    if config_file is not None:
        layers.append(from_toml(settings, read_config_file(config_file), str(config_file)))
    layers.append(from_env(settings, environ, ignore=ignore_env))
    layers.append(flags)
    merged = resolve(settings, *layers)
    return build(root, settings, merged), merged


def read_config_file(config_file: str | os.PathLike[str]) -> dict[str, Any]:
    """The TOML document of ``config_file``; :class:`SettingsError` naming the file
    and what is wrong with it (not there, not TOML, not UTF-8)."""
    import tomllib

    try:
        with Path(config_file).open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise SettingsError(
            f"cannot read config file {config_file}: {exc.strerror or exc}"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"config file {config_file}: {exc}") from None
    except UnicodeDecodeError as exc:  # TOML is UTF-8
        raise SettingsError(
            f"config file {config_file}: not UTF-8 text "
            f"(byte {exc.object[exc.start]:#04x} at position {exc.start})"
        ) from None


def build(root: type, settings: Sequence[Setting], layer: Layer) -> Any:
    """An instance of ``root`` with ``layer``'s values over the defaults.

    A nested optional dataclass (``cors: CorsOptions | None``) is made only
    when one of its settings is given. A value a dataclass refuses (its own
    checks) raises :class:`SettingsError` naming where the value came from.
    """
    try:
        return _build(root, (), settings, layer)
    except (ValueError, TypeError) as exc:
        if isinstance(exc, SettingsError):
            raise
        message = str(exc)
        sources = [
            origin
            for key, origin in layer.origins.items()
            if _names_field(message, next(s for s in settings if s.key == key).path[-1])
        ]
        raise SettingsError(
            message + (f" (from {', '.join(sources)})" if sources else "")
        ) from None


def _names_field(message: str, name: str) -> bool:
    return any(f"{sep}{name}{end}" in message for sep in (".", " ") for end in (" ", ":", ","))


def _build(cls: type, path: tuple[str, ...], settings: Sequence[Setting], layer: Layer) -> Any:
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if not f.init or f.name.startswith("_"):
            continue
        here = (*path, f.name)
        hint, optional = _unwrap(hints[f.name])
        if dataclasses.is_dataclass(hint) and isinstance(hint, type):
            given = any(s.path[: len(here)] == here and s.key in layer.values for s in settings)
            if optional and not given:
                continue  # left to its default (None, as a rule)
            kwargs[f.name] = _build(hint, here, settings, layer)
            continue
        setting = next(s for s in settings if s.path == here)
        if setting.key in layer.values:
            kwargs[f.name] = layer.values[setting.key]
    return cls(**kwargs)


def to_toml(settings: Sequence[Setting], instance: Any, origins: Mapping[str, str]) -> str:
    """``instance`` as a TOML document (one table per nested dataclass), each value
    that is not the default followed by a comment saying where it came from; a
    nested optional dataclass left unset is a comment."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for setting in settings:
        value: Any = instance
        unset: tuple[str, ...] | None = None
        for depth, name in enumerate(setting.path):
            value = getattr(value, name)
            if value is None and depth < len(setting.path) - 1:
                unset = setting.path[: depth + 1]
                break
        table = setting.path[:-1]
        if unset is not None:
            groups.setdefault(table, [])
            continue
        line = f"{setting.path[-1]} = {setting.show(value)}"
        origin = origins.get(setting.key)
        if origin is not None:
            line += f"  # {origin}"
        groups.setdefault(table, []).append(line)
    out: list[str] = []
    for table, lines in groups.items():
        if table and not lines:
            out.append(f"\n# [{'.'.join(table)}] is not set")
            continue
        if table:
            out.append(f"\n[{'.'.join(table)}]")
        out.extend(lines)
    return "\n".join(out).lstrip("\n") + "\n"


def help_lines(setting: Setting) -> str:
    """The help of a flag: the field's comment, and its variable and default."""
    default = setting.default
    if default is dataclasses.MISSING:
        shown = ""
    else:
        shown = f"; default: {'none' if default is None else setting.show(default)}"
    return f"{setting.help} [{setting.env}{shown}]".strip()
