"""The API reference (docs/reference/, built by tox -e docs) covers the public API."""

from __future__ import annotations

import re

import grpcgw

from .conftest import ROOT

REFERENCE = ROOT / "docs" / "reference"


def _documented() -> set[str]:
    """The objects the reference pages render with mkdocstrings (``::: grpcgw.name``)."""
    return {
        name
        for page in REFERENCE.glob("*.md")
        for name in re.findall(r"^::: (\S+)$", page.read_text(), re.MULTILINE)
    }


def test_every_public_name_is_in_the_reference() -> None:
    documented = _documented()
    missing = [
        name
        for name in grpcgw.__all__
        if name != "__version__" and f"grpcgw.{name}" not in documented
    ]
    assert not missing, f"add ::: grpcgw.NAME to a page in docs/reference/ for {missing}"


def test_every_reference_page_is_in_the_nav() -> None:
    nav = (ROOT / "mkdocs.yml").read_text()
    for page in REFERENCE.glob("*.md"):
        assert f"reference/{page.name}" in nav, page.name


def test_every_command_is_in_the_cli_page() -> None:
    """docs/cli.md's table names every subcommand (the help below it is generated)."""
    import argparse

    from grpcgw import cli

    page = (ROOT / "docs" / "cli.md").read_text()
    assert "<!-- grpcgw --help -->" in page
    (subparsers,) = [a for a in cli._parser()._actions if isinstance(a, argparse._SubParsersAction)]
    missing = [name for name in subparsers.choices if f"| `grpcgw {name}` |" not in page]
    assert not missing, f"docs/cli.md does not list {missing}"


def test_links_out_of_docs_point_at_the_repository() -> None:
    """scripts/mkdocs_hooks.py: ../file links, which work on GitHub, work on the site too."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("hooks", ROOT / "scripts" / "mkdocs_hooks.py")
    assert spec is not None
    assert spec.loader is not None
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    repo = "https://github.com/o/r"
    text = (
        "[t](../examples/ping/deploy/template.yaml) [p](lambda.md#deploy) "
        '[w](https://x.org/a) [a](#here) [r](../../LICENSE "licence")'
    )
    assert hooks.repository_links(text, "lambda.md", repo) == (
        f"[t]({repo}/blob/main/examples/ping/deploy/template.yaml) [p](lambda.md#deploy) "
        f'[w](https://x.org/a) [a](#here) [r](../../LICENSE "licence")'
    )
    assert hooks.repository_links("[l](../../LICENSE#x)", "reference/web.md", repo) == (
        f"[l]({repo}/blob/main/LICENSE#x)"
    )
    same = "[i](../index.md)"
    assert hooks.repository_links(same, "reference/web.md", repo) == same
