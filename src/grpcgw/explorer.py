"""The explorer page: Swagger UI, from the ``swagger-ui-bundle`` package, on the gateway's document.

The page is a few lines of HTML written here; the interface itself is Swagger
UI's distribution files as the ``swagger-ui-bundle-v2`` package installs them
(the ``swagger_ui_bundle`` import package, a dependency of grpcgw), served by
the gateway below the page's path. Nothing is fetched from a CDN: the page
works with no network.

Every URL in the page is relative to the page itself (the files, the
document), and the document's ``servers`` entry is relative to the document,
so "Try it out" calls the gateway that served the page, whatever prefix stands
in front of it (an API Gateway stage, a custom-domain base path, a reverse
proxy's path).

grpcgw's own script (``explorer.js`` beside this module, served as
:data:`INIT_SCRIPT`) starts Swagger UI with a plugin of Swagger UI's kind
(wrapped actions and components, no change to its bundle) that shows the reply
of a server-streaming method message by message as it arrives, NDJSON and
server-sent events alike, the error line as an error, and that adds a
request-headers table to every "Try it out" form, checked as it is typed and
kept in the page's memory (docs/openapi.md).

Pure: the standard library; the files are read on first use. Only
:mod:`grpcgw.apidocs` imports this, and only when a page or a file is asked for.
"""

from __future__ import annotations

import html
import importlib.resources
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = [
    "FILES",
    "INIT_SCRIPT",
    "PACKAGE",
    "ExplorerUnavailable",
    "SwaggerUI",
    "find_swagger_ui",
    "init_script",
    "page",
]

#: The distribution on PyPI that brings Swagger UI, and the package it installs.
PACKAGE: Final = "swagger-ui-bundle-v2"
_IMPORT_NAME: Final = "swagger_ui_bundle"

#: The name of grpcgw's own script, which starts Swagger UI on the page's document.
INIT_SCRIPT: Final = "grpcgw-explorer.js"
_JS: Final = "text/javascript; charset=utf-8"
#: The files served below the page: name -> Content-Type. Only these (no source
#: maps, no other bundles): what the page loads.
FILES: Final = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": _JS,
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
    INIT_SCRIPT: _JS,
}

# grpcgw's own script: a file of its own, not an inline script, so that the page's
# Content-Security-Policy can refuse every inline script.
_SCRIPT_FILE: Final = "explorer.js"

_VERSION_DIR = re.compile(r"swagger-ui-(\d+)\.(\d+)\.(\d+)")


class ExplorerUnavailable(LookupError):
    """Swagger UI's files cannot be found (the package is not installed)."""


@dataclass(frozen=True, slots=True)
class SwaggerUI:
    """One installed Swagger UI distribution."""

    directory: Path
    version: tuple[int, int, int]

    @property
    def version_text(self) -> str:
        return ".".join(map(str, self.version))

    @property
    def renders_openapi_31(self) -> bool:
        """Swagger UI renders OpenAPI 3.1 from version 5 on (4.x only 3.0 and 2.0)."""
        return self.version >= (5, 0, 0)

    def read(self, name: str) -> bytes:
        """The bytes of one of :data:`FILES` (grpcgw's own script included)."""
        if name == INIT_SCRIPT:
            return init_script()
        if name not in FILES:
            raise KeyError(name)
        return (self.directory / name).read_bytes()


def init_script() -> bytes:
    """grpcgw's script (:data:`INIT_SCRIPT`): it starts Swagger UI on the page's document,
    with a plugin that shows the replies of server-streaming methods (NDJSON and
    server-sent events) message by message as they arrive, and adds a
    request-headers table to every "Try it out" form."""
    return importlib.resources.files("grpcgw").joinpath(_SCRIPT_FILE).read_bytes()


def find_swagger_ui() -> SwaggerUI:
    """The newest Swagger UI the ``swagger_ui_bundle`` package holds.

    Both ``swagger-ui-bundle-v2`` (Swagger UI 5) and the older
    ``swagger-ui-bundle`` (Swagger UI 4, which connexion installs) put their
    files in that package, each in a ``vendor/swagger-ui-X.Y.Z`` directory, so
    with both installed the newest one is taken. Nothing is imported.
    """
    try:
        spec = importlib.util.find_spec(_IMPORT_NAME)
    except (ImportError, ValueError):
        spec = None
    roots = [] if spec is None else list(spec.submodule_search_locations or ())
    found: list[SwaggerUI] = []
    for root in roots:
        vendor = Path(root) / "vendor"
        if not vendor.is_dir():
            continue
        for directory in vendor.iterdir():
            m = _VERSION_DIR.fullmatch(directory.name)
            if m is None or not all((directory / n).is_file() for n in FILES if n != INIT_SCRIPT):
                continue
            major, minor, patch = (int(g) for g in m.groups())
            found.append(SwaggerUI(directory, (major, minor, patch)))
    if not found:
        raise ExplorerUnavailable(
            f"the explorer page needs Swagger UI's files from the {PACKAGE} package, "
            f"which is not installed (pip install {PACKAGE})"
        )
    return max(found, key=lambda ui: ui.version)


def page(*, title: str, document_url: str, files_url: str, versions: dict[str, str]) -> bytes:
    """The explorer's HTML.

    ``document_url``: the document, relative to the page; ``files_url``: the
    directory of :data:`FILES`, relative to the page, ending in ``/``;
    ``versions``: file name -> a version tag added as ``?v=`` (so that the files
    can be cached for good and a new version is fetched anew).
    """

    def file(name: str) -> str:
        return html.escape(f"{files_url}{name}?v={versions.get(name, '')}")

    return f"""\
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<link rel="icon" type="image/png" href="{file("favicon-32x32.png")}" sizes="32x32">
<link rel="icon" type="image/png" href="{file("favicon-16x16.png")}" sizes="16x16">
<link rel="stylesheet" href="{file("swagger-ui.css")}">
</head>
<body>
<div id="swagger-ui" data-url="{html.escape(document_url)}"></div>
<script src="{file("swagger-ui-bundle.js")}"></script>
<script src="{file(INIT_SCRIPT)}"></script>
</body>
</html>
""".encode()
