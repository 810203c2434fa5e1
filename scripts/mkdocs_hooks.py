"""mkdocs hooks (mkdocs.yml): what the pages say on GitHub, made right for the site.

- ``<!-- grpcgw --help -->`` on a line of its own becomes a section per
  subcommand (``## grpcgw NAME``) with its ``--help`` text, taken from the
  parser at build time, so docs/cli.md lists every command and flag there is.
- A relative link out of ``docs/`` (``../examples/ping/deploy/template.yaml``)
  works on GitHub but has no page on the site: it becomes a link to the file
  in the repository (``repo_url``/blob/main/...).
"""

from __future__ import annotations

import argparse
import os
import posixpath
import re
from typing import Any

MARKER = "<!-- grpcgw --help -->"


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def cli_reference() -> str:
    """Markdown: every subcommand of ``grpcgw``, with its help text."""
    from grpcgw import cli

    columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "88"  # argparse wraps to the terminal; the same width everywhere
    try:
        sections = []
        for name, sub in _subcommands(cli._parser()).items():
            sub.prog = f"grpcgw {name}"
            help_text = sub.format_help().rstrip()
            sections.append(f"## grpcgw {name}\n\n```text\n{help_text}\n```\n")
    finally:
        if columns is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = columns
    return "\n".join(sections)


#: An inline Markdown link or image target: ``](target)`` or ``](target "title")``.
_LINK = re.compile(r"\]\((?P<target>[^)\s]+)(?P<rest>[^)]*)\)")


def repository_links(markdown: str, page_path: str, repo_url: str, branch: str = "main") -> str:
    """Links that leave ``docs/`` point at the repository; ``page_path`` is relative to docs/."""

    def rewrite(match: re.Match[str]) -> str:
        target = match["target"]
        if "://" in target or target.startswith(("#", "/", "mailto:")):
            return match[0]
        path, sep, anchor = target.partition("#")
        where = posixpath.normpath(posixpath.join("docs", posixpath.dirname(page_path), path))
        if where == "docs" or where.startswith(("docs/", "..")):
            return match[0]  # a page of the site, or out of the repository: mkdocs checks it
        return f"]({repo_url.rstrip('/')}/blob/{branch}/{where}{sep}{anchor}{match['rest']})"

    return _LINK.sub(rewrite, markdown)


def on_page_markdown(markdown: str, page: Any, config: Any, **kwargs: Any) -> str:
    if MARKER in markdown:
        markdown = markdown.replace(MARKER, cli_reference())
    return repository_links(markdown, page.file.src_uri, config["repo_url"])
