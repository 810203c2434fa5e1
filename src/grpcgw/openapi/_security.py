"""The security schemes ``GatewayOptions.openapi_security`` declares, in both versions.

FastAPI's way: a scheme declared in code shows Swagger UI's Authorize button,
and what is entered there goes with every call. Here the schemes come from the
options, since the proto files of a service seldom carry grpc-gateway's
``openapiv2_swagger.security_definitions`` (which are honoured too, beside them).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from grpcgw.metadata import METADATA_HEADER_PREFIX
from grpcgw.options import SECURITY_HEADER, security_name

__all__ = ["requirements", "schemes"]


def _scheme(entry: str, *, v2: bool) -> dict[str, Any]:
    if entry == "bearer":
        seen = "the server sees it as the `authorization` metadata"
        if v2:  # Swagger 2.0 has no bearer scheme: grpc-gateway's users write this
            return {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": f"A bearer token: enter `Bearer <token>`; {seen}.",
            }
        return {
            "type": "http",
            "scheme": "bearer",
            "description": f"A bearer token, sent as `Authorization: Bearer <token>`; {seen}.",
        }
    if entry == "basic":
        return {
            "type": "basic" if v2 else "http",
            **({} if v2 else {"scheme": "basic"}),
            "description": "A user name and password, sent as `Authorization: Basic ...`; "
            "the server sees it as the `authorization` metadata.",
        }
    header = entry.removeprefix(SECURITY_HEADER)
    description = f"An API key, sent in the `{header}` header"
    key = header.lower().removeprefix(METADATA_HEADER_PREFIX)
    if key != header.lower():  # grpc-gateway's rule, the default header matcher's
        description += f"; the server sees it as the `{key}` metadata"
    return {"type": "apiKey", "in": "header", "name": header, "description": description + "."}


def schemes(entries: Iterable[str], *, v2: bool) -> dict[str, dict[str, Any]]:
    """``components.securitySchemes`` (``securityDefinitions`` in 2.0) for the
    options' entries, by name (:func:`grpcgw.options.security_name`)."""
    return {security_name(entry): _scheme(entry, v2=v2) for entry in entries}


def requirements(entries: Iterable[str]) -> list[dict[str, list[str]]]:
    """The document's ``security``: any one of the schemes (alternatives)."""
    return [{security_name(entry): []} for entry in entries]
