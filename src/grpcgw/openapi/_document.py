"""Compiled routes -> an OpenAPI 3.1 document (and, converted, a Swagger 2.0 one).

Every fact comes from what serves the requests: the route table (methods,
templates), each route's :class:`~grpcgw.binding.BindingPlan` (path, body and
query fields) and response transcoder (``response_body``, ``HttpBody``), and
the gateway's options (JSON names, enums, strictness, path decoding).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor

from grpcgw.binding import (
    HTTP_BODY,
    SPECIAL_JSON_WKTS,
    WRAPPERS,
    BindingPlan,
    PathField,
    QueryField,
    is_map,
    message_type,
)
from grpcgw.httprule import SegmentKind, Variable
from grpcgw.openapi import _annotations, _pathnames, _security
from grpcgw.openapi._comments import Comments, split_summary
from grpcgw.openapi._numbers import integer_pattern
from grpcgw.openapi._pathnames import Slot
from grpcgw.openapi._schemas import REF_V3, Schemas, scalar
from grpcgw.options import GatewayOptions, UnescapeMode

if TYPE_CHECKING:
    from grpcgw.gateway import Route

#: The operations an OpenAPI 3.1 path item can hold.
OAS3_METHODS: Final = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
NDJSON: Final = "application/x-ndjson"
EVENT_STREAM: Final = "text/event-stream"
JSON: Final = "application/json"
STATUS: Final = "google.rpc.Status"
BINARY: Final = {"type": "string", "format": "binary"}

# RFC 6570 reserved characters: a generated client percent-encodes them, and the
# gateway keeps such escapes in multi-segment variables by default.
_RESERVED_CLASS: Final = r"!#$&'()*+,/:;=?@\[\]"


def _part_pattern(mode: UnescapeMode) -> str:
    if mode is UnescapeMode.ALL_EXCEPT_RESERVED:
        return f"^[^{_RESERVED_CLASS}]+$"
    return "^[^/]+$"


class _PathParam(Slot):
    """One path parameter: a wildcard of a variable (all of a single-segment one), or
    an unnamed wildcard; ``siblings`` are the parameters of the same variable."""

    __slots__ = ("field", "index", "segment", "siblings", "variable")

    def __init__(
        self,
        fallback: str,
        resource: str | None,
        field: PathField | None,
        variable: Variable | None,
        segment: SegmentKind,
        index: int,
    ) -> None:
        whole = variable is None or not variable.multi_segment
        super().__init__(fallback, resource, fixed=whole)
        self.field = field
        self.variable = variable
        self.segment = segment
        #: Which wildcard of the variable (0 for the first).
        self.index = index
        self.siblings: list[_PathParam] = [self]


class _Planned:
    """A route on its way into the document: its path's parts (literal text or a
    parameter), and its query and header parameters."""

    __slots__ = ("index", "others", "params", "parts", "route", "verb")

    def __init__(
        self,
        route: Route,
        index: int,
        verb: str,
        parts: list[str | _PathParam],
        others: list[dict[str, Any]],
    ) -> None:
        self.route = route
        self.index = index
        self.verb = verb
        self.parts = parts
        self.params = [p for p in parts if isinstance(p, _PathParam)]
        self.others = others

    def path(self, blank: bool = False) -> str:
        verb = self.route.template.verb
        text = "/".join(
            p if isinstance(p, str) else "{" + ("" if blank else p.name) + "}" for p in self.parts
        )
        return "/" + text + (f":{verb}" if verb else "")


class Builder:
    """Builds one OpenAPI 3.1 document from compiled routes."""

    def __init__(
        self,
        routes: Sequence[Route],
        *,
        options: GatewayOptions,
        comments: Comments,
        title: str | None = None,
        version: str | None = None,
    ) -> None:
        self.routes = routes
        self.options = options
        self.comments = comments
        self.schemas = Schemas(options, comments)
        self.title = title
        self.version = version
        self._bodies: dict[tuple[str, tuple[str, ...], bool], str] = {}
        self._unlisted: list[str] = []

    # -- the document ----------------------------------------------------------------------

    def build(self) -> dict[str, Any]:
        services = _services(self.routes)
        tags = self._tags(services)
        planned: list[_Planned] = []
        counts: dict[str, int] = {}
        for route in self.routes:
            method = route.method
            n = counts.get(method.full_name, 0)
            counts[method.full_name] = n + 1
            verb = route.binding.http_method.lower()
            if verb not in OAS3_METHODS:
                self._unlisted.append(f"{route.binding.http_method} {route.binding.template}")
                continue
            others = self._query_parameters(route) + _header_parameters(route)
            planned.append(_Planned(route, n, verb, self._parts(route), others))
        # OpenAPI: paths that differ only in parameter names are the same path. The
        # first route of each shape names the parameters of all, apart from the query
        # and header parameters of every operation on it.
        shapes: dict[str, list[_Planned]] = {}
        for plan in planned:
            shapes.setdefault(plan.path(blank=True), []).append(plan)
        resource = self.options.openapi_path_names == "resource"
        for group in shapes.values():
            first = group[0]
            reserved = {p["name"] for plan in group for p in plan.others}
            _pathnames.choose(first.params, reserved, resource=resource)
            for plan in group[1:]:
                for param, named in zip(plan.params, first.params, strict=True):
                    param.name = named.name
        paths: dict[str, dict[str, Any]] = {}
        for plan in planned:
            path = shapes[plan.path(blank=True)][0].path()
            operation = self._operation(plan.route, services, plan.index, plan.params, plan.others)
            item = paths.setdefault(path, {})
            if plan.verb in item:  # a route the router would have refused: keep the first
                continue
            item[plan.verb] = operation
        self.schemas.message(self._status_descriptor())
        document: dict[str, Any] = {
            "openapi": "3.1.0",
            "info": self._info(services),
        }
        file_options = self._file_options(services)
        if tags:
            document["tags"] = tags
        document["paths"] = paths
        components: dict[str, Any] = {"schemas": dict(sorted(self.schemas.components.items()))}
        schemes = _annotations.security_schemes(
            file_options.get("security_definitions") or {}, v2=False
        )
        # The configured schemes describe this gateway: they win over annotated namesakes.
        schemes.update(_security.schemes(self.options.openapi_security, v2=False))
        if schemes:
            components["securitySchemes"] = schemes
        document["components"] = components
        security = _annotations.security(file_options.get("security"))
        security += [
            r for r in _security.requirements(self.options.openapi_security) if r not in security
        ]
        if security:
            document["security"] = security
        docs = _annotations.external_docs(file_options.get("external_docs"))
        if docs:
            document["externalDocs"] = docs
        document.update(_annotations.extensions(file_options.get("extensions")))
        if self._unlisted:
            document["x-grpcgw-unlisted-routes"] = self._unlisted
        return document

    def file_options(self) -> dict[str, Any]:
        """The first ``openapiv2_swagger`` file option among the services' files, or ``{}``."""
        return self._file_options(_services(self.routes))

    def _file_options(self, services: dict[str, Any]) -> dict[str, Any]:
        for service in services.values():
            found = _annotations.read(service.file, "swagger")
            if found:
                return found
        return {}

    def _info(self, services: dict[str, Any]) -> dict[str, Any]:
        annotated = self._file_options(services).get("info") or {}
        info: dict[str, Any] = {
            "title": self.title or annotated.get("title") or ", ".join(services) or "grpcgw",
            "version": self.version or annotated.get("version") or "0.0.0",
        }
        for key, name in (("description", "description"), ("terms_of_service", "termsOfService")):
            if annotated.get(key):
                info[name] = annotated[key]
        for key in ("contact", "license"):
            if annotated.get(key):
                info[key] = {k: v for k, v in annotated[key].items() if k != "extensions"}
        info.update(_annotations.extensions(annotated.get("extensions")))
        return info

    def _tags(self, services: dict[str, Any]) -> list[dict[str, Any]]:
        tags = []
        for full_name, service in services.items():
            tag: dict[str, Any] = {"name": _tag_name(full_name, services)}
            comment = self.comments.of(service)
            if comment:
                tag["description"] = comment
            annotated = _annotations.read(service, "tag")
            if annotated.get("name"):
                tag["name"] = annotated["name"]
            if annotated.get("description"):
                tag["description"] = annotated["description"]
            docs = _annotations.external_docs(annotated.get("external_docs"))
            if docs:
                tag["externalDocs"] = docs
            tag.update(_annotations.extensions(annotated.get("extensions")))
            tags.append(tag)
        return tags

    @staticmethod
    def _status_descriptor() -> Descriptor:
        from google.rpc import status_pb2

        desc: Descriptor = status_pb2.Status.DESCRIPTOR
        return desc

    # -- paths -----------------------------------------------------------------------------

    def _param_base(self, bound: PathField) -> str:
        """A path parameter's name: ``openapiv2_field.field_configuration.path_param_name``,
        else the field path without dots (``thing.name`` -> ``thingName``; many
        generators cannot take a ``.`` in a path parameter's name)."""
        annotated = _annotations.path_param_name(_annotations.read(bound.fields[-1], "field"))
        if annotated:
            return annotated
        snake = "_".join(f.name for f in bound.fields)
        if self.options.use_proto_names:
            return snake
        return _lower_camel(snake)

    def _parts(self, route: Route) -> list[str | _PathParam]:
        """The OpenAPI path of a route, as literal parts and parameters to be named.

        Multi-segment variables are expanded, one parameter per wildcard:
        ``/v1/{name=shelves/*/books/*}`` becomes ``/v1/shelves/{name}/books/{name_1}``
        or ``/v1/shelves/{shelf}/books/{book}`` (OpenAPI path parameters cannot hold
        ``/``; a client that fills each part reaches the route, and the gateway sets
        ``name`` to the whole matched path).
        """
        template = route.template
        bound = {f.key: f for f in route.request.plan.path_fields}
        starts = {v.start: v for v in template.variables}
        proto_names = self.options.use_proto_names
        parts: list[str | _PathParam] = []
        anonymous = 0
        i = 0
        while i < len(template.segments):
            variable = starts.get(i)
            if variable is not None:
                field = bound.get(variable.name)
                base = self._param_base(field) if field is not None else variable.name
                if not variable.multi_segment:
                    parts.append(_PathParam(base, None, field, variable, SegmentKind.WILDCARD, 0))
                else:
                    siblings: list[_PathParam] = []
                    before: str | None = None
                    for segment in variable.segments:
                        if segment.is_literal:
                            parts.append(segment.text)
                            before = segment.text
                            continue
                        n = len(siblings)
                        resource = None
                        if before is not None:
                            resource = _pathnames.resource_name(before, proto_names=proto_names)
                        param = _PathParam(
                            base if n == 0 else f"{base}_{n}",
                            resource,
                            field,
                            variable,
                            segment.kind,
                            n,
                        )
                        param.siblings = siblings
                        siblings.append(param)
                        parts.append(param)
                        before = None
                i = variable.end
                continue
            segment = template.segments[i]
            if segment.is_literal:
                parts.append(segment.text)
            else:  # an unnamed wildcard: any segment(s), bound to no field
                name = "_" if anonymous == 0 else f"_{anonymous}"
                anonymous += 1
                parts.append(_PathParam(name, None, None, None, segment.kind, 0))
            i += 1
        return parts

    def _path_parameter(self, param: _PathParam) -> dict[str, Any]:
        result: dict[str, Any] = {"name": param.name, "in": "path", "required": True}
        field = param.field
        whole = param.variable is not None and not param.variable.multi_segment
        schema: dict[str, Any]
        if field is not None and whole:
            leaf = field.fields[-1]
            value = self.schemas.text_value(leaf)
            schema = dict(value) if value is not None else {"type": "string"}
            if schema.get("type") == "string":
                schema["minLength"] = 1  # an empty segment is no segment
            schema = self.schemas.describe_field(leaf, schema)
            description = schema.pop("description", "")
            if schema.pop("deprecated", False):
                result["deprecated"] = True
            if description:
                result["description"] = description
        else:
            schema = {"type": "string", "minLength": 1}
            # With ALL_CHARACTERS a `**` part may hold '/': sent escaped, decoded by the gateway.
            if not (
                param.segment is SegmentKind.DEEP_WILDCARD
                and self.options.unescape_mode is UnescapeMode.ALL_CHARACTERS
            ):
                schema["pattern"] = _part_pattern(self.options.unescape_mode)
            result["description"] = self._part_description(param)
        result["schema"] = schema
        return result

    @staticmethod
    def _part_description(param: _PathParam) -> str:
        variable = param.variable
        if variable is None:
            return "Any path segment (not sent to the server)."
        sub = "/".join(str(s) for s in variable.segments)
        which = "the" if len(param.siblings) == 1 else f"wildcard {param.index + 1} of the"
        text = f"Fills {which} `{sub}` pattern of field `{variable.name}`"
        if sub in ("*", "**"):
            text += "."
        else:
            names = iter(param.siblings)
            whole = "/".join(
                s.text if s.is_literal else "{" + next(names).name + "}" for s in variable.segments
            )
            text += f": the field gets the whole path, `{whole}`."
        if param.segment is SegmentKind.DEEP_WILDCARD:
            text += (
                " The route also matches several segments: `/` written as is (a client that"
                " escapes it as `%2F` sends one segment)."
            )
        return text

    # -- operations ------------------------------------------------------------------------

    def _operation(
        self,
        route: Route,
        services: dict[str, Any],
        index: int,
        params: list[_PathParam],
        others: list[dict[str, Any]],
    ) -> dict[str, Any]:
        method = route.method
        service = method.containing_service
        tag = _tag_name(service.full_name, services)
        base_id = f"{_op_prefix(service.full_name, services)}_{method.name}"
        operation: dict[str, Any] = {"tags": [tag]}
        annotated_tag = _annotations.read(service, "tag").get("name")
        if annotated_tag:
            operation["tags"] = [annotated_tag]
        summary, description = split_summary(self.comments.of(method))
        if summary:
            operation["summary"] = summary
        if description:
            operation["description"] = description
        operation["operationId"] = base_id if index == 0 else f"{base_id}_{index}"
        parameters = [self._path_parameter(p) for p in params] + others
        plan = route.request.plan
        annotated = _annotations.read(method, "operation")
        if parameters:
            operation["parameters"] = parameters
        body = self._request_body(route, plan)
        if body is not None:
            operation["requestBody"] = body
        operation["responses"] = self._responses(route)
        if method.has_options and method.GetOptions().deprecated:
            operation["deprecated"] = True
        operation["x-grpcgw-rpc"] = route.rpc
        if annotated:
            self._apply_operation_options(operation, annotated, index)
        return operation

    def _apply_operation_options(
        self, operation: dict[str, Any], annotated: dict[str, Any], index: int
    ) -> None:
        for key in ("summary", "description"):
            if annotated.get(key):
                operation[key] = annotated[key]
        if annotated.get("tags"):
            operation["tags"] = list(annotated["tags"])
        if annotated.get("operation_id"):
            op_id = annotated["operation_id"]
            operation["operationId"] = op_id if index == 0 else f"{op_id}_{index}"
        if annotated.get("deprecated"):
            operation["deprecated"] = True
        docs = _annotations.external_docs(annotated.get("external_docs"))
        if docs:
            operation["externalDocs"] = docs
        if "security" in annotated:
            operation["security"] = _annotations.security(annotated["security"])
        success = operation["responses"].get("200", {})
        for code, response in (annotated.get("responses") or {}).items():
            result: dict[str, Any] = {"description": response.get("description") or code}
            ref = ((response.get("schema") or {}).get("json_schema") or {}).get("ref", "")
            if ref:
                result["content"] = {JSON: {"schema": self._annotated_ref(ref)}}
            elif code.startswith("2") and "content" in success:
                result["content"] = success["content"]
            headers = {
                name: {
                    "description": header.get("description", ""),
                    "schema": {"type": (header.get("type") or "string").lower()},
                }
                for name, header in (response.get("headers") or {}).items()
            }
            if headers:
                result["headers"] = headers
            result.update(_annotations.extensions(response.get("extensions")))
            operation["responses"][code] = result
        responses = operation["responses"]
        operation["responses"] = {
            code: responses[code] for code in sorted(responses, key=lambda c: (c == "default", c))
        }
        operation.update(_annotations.extensions(annotated.get("extensions")))

    def _annotated_ref(self, ref: str) -> dict[str, Any]:
        """A ``json_schema.ref``: ``.pkg.Message`` (a proto type) or an OpenAPI reference."""
        if ref == ".google.rpc.Status":
            return self.schemas.ref(STATUS)
        if ref.startswith("."):
            from google.protobuf import descriptor_pool

            pools = [r.method.containing_service.file.pool for r in self.routes[:1]]
            pools.append(descriptor_pool.Default())
            for pool in pools:
                try:
                    return self.schemas.message(pool.FindMessageTypeByName(ref[1:]))
                except KeyError:
                    continue
            return {}
        return {"$ref": ref.replace("#/definitions/", REF_V3)}

    # -- query -------------------------------------------------------------------------------

    def _query_parameters(self, route: Route) -> list[dict[str, Any]]:
        parameters = []
        for query in route.request.plan.query_fields():
            parameter = self._query_parameter(query)
            if parameter is not None:
                parameters.append(parameter)
        return parameters

    def _query_parameter(self, query: QueryField) -> dict[str, Any] | None:
        field = query.field
        result: dict[str, Any] = {
            "name": query.name(proto_names=self.options.use_proto_names),
            "in": "query",
        }
        if query.required:
            result["required"] = True
        value_field = message_type(field).fields_by_name["value"] if is_map(field) else field
        value = self.schemas.text_value(value_field)
        extras = self.schemas.describe_field(field, {})
        if extras.get("description"):
            result["description"] = extras.pop("description")
        if extras.pop("deprecated", False):
            result["deprecated"] = True
        if value is None:
            # Struct, Value, ListValue: JSON text (grpc-gateway's extension). OpenAPI has
            # no way to say "each repeated value is JSON text": those are left out.
            if field.is_repeated:
                return None
            schema = self.schemas.message(message_type(field))
            result["content"] = {JSON: {"schema": schema}}
            return result
        if is_map(field):
            entry = message_type(field)
            schema = {"type": "object", "additionalProperties": value}
            key = entry.fields_by_name["key"]
            if key.type != FieldDescriptor.TYPE_STRING:
                key_schema = scalar(key.type, text=True)
                if key.type == FieldDescriptor.TYPE_BOOL:
                    schema["propertyNames"] = {"enum": ["true", "false"]}
                else:
                    schema["propertyNames"] = {
                        "pattern": integer_pattern(key_schema["minimum"], key_schema["maximum"])
                    }
            result.update({"style": "deepObject", "explode": True})
        elif field.is_repeated:
            schema = {"type": "array", "items": value}
            result.update({"style": "form", "explode": True})
        else:
            schema = value
        extras.pop("readOnly", None)  # a parameter is input
        extras.pop("writeOnly", None)
        result["schema"] = {**schema, **extras} if extras else schema
        return result

    # -- bodies ------------------------------------------------------------------------------

    def _request_body(self, route: Route, plan: BindingPlan) -> dict[str, Any] | None:
        if not plan.has_body:
            return None
        streaming = route.spec.client_streaming
        if plan.raw_body:
            return {
                "description": "The raw body, with its Content-Type (a google.api.HttpBody).",
                "content": {"*/*": {"schema": dict(BINARY)}},
            }
        path_fields = [f.canonical for f in plan.path_fields]
        # The keys of a body that fills the PATCH field mask must all name fields
        # (an unknown one answers 400, even where unknown fields are otherwise ignored).
        closed = plan.fill_mask is not None
        if plan.body_field is None:
            if path_fields:
                schema = self._body_component(route.method, plan.message, path_fields)
            else:
                schema = self.schemas.message(plan.message)
        else:
            field = plan.body_field
            below = [p.partition(".")[2] for p in path_fields if p.startswith(field.name + ".")]
            if below:
                body_schema = self._body_component(
                    route.method, message_type(field), below, closed=closed
                )
                schema = self.schemas.describe_field(field, body_schema)
            else:
                schema = self.schemas.field(field, closed=closed)
        checker = plan.required_body()
        required = checker is not None and checker.missing(None, present=False) is not None
        body: dict[str, Any] = {}
        if streaming:
            body["description"] = "A stream of request messages: one JSON document per line."
        body["content"] = {NDJSON if streaming else JSON: {"schema": schema}}
        if required:
            body["required"] = True
        return body

    def _body_component(
        self, method: MethodDescriptor, desc: Descriptor, exclude: list[str], closed: bool = False
    ) -> dict[str, Any]:
        """A message without the fields the path binds, as a component of its own."""
        key = (desc.full_name, tuple(sorted(exclude)), closed)
        name = self._bodies.get(key)
        if name is None:
            base = f"{method.full_name}Body"
            name = base
            n = 1
            while name in self.schemas.components:
                name = f"{base}_{n}"
                n += 1
            self._bodies[key] = name
            schema = self.schemas.object(desc, exclude=exclude, closed=closed)
            self.schemas.components[name] = schema
        return self.schemas.ref(name)

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        ref = schema.get("$ref", "")
        if ref.startswith(REF_V3):
            return self.schemas.components.get(ref[len(REF_V3) :], {})
        return schema

    def _responses(self, route: Route) -> dict[str, Any]:
        method = route.method
        response = route.response
        field = response.field
        ok: dict[str, Any] = {"description": "A successful response."}
        if route.binding.http_method == "HEAD":
            ok["description"] = "A successful response (headers only)."
        elif response.http_body:
            ok["content"] = {"*/*": {}}  # any bytes, with the servicer's content type
            if route.spec.server_streaming:
                ok["description"] = "The bytes of each reply, one after another (no delimiter)."
        else:
            schema = self._reply_schema(method.output_type, field)
            if route.spec.server_streaming:
                name = field.name if field is not None else method.output_type.name
                item = {
                    "type": "object",
                    "title": f"Stream result of {name}",
                    "properties": {"result": schema, "error": self.schemas.ref(STATUS)},
                }
                ok["description"] = (
                    'A stream of replies: one JSON object per line, `{"result": ...}` for each'
                    ' reply and `{"error": ...}` (a google.rpc.Status) if the call fails after'
                    " the first. With `Accept: text/event-stream`, server-sent events: each"
                    " `data:` is one reply, an `error` event carries the Status."
                )
                ok["content"] = {
                    NDJSON: {"schema": item},
                    EVENT_STREAM: {"schema": {"type": "string"}},
                }
            else:
                ok["content"] = {JSON: {"schema": schema}}
        responses: dict[str, Any] = {"200": ok}
        if route.health:
            responses["503"] = {
                "description": "The service is not serving.",
                "content": {JSON: {"schema": self.schemas.message(method.output_type)}},
            }
        responses["default"] = {
            "description": "An error: a google.rpc.Status.",
            "content": {JSON: {"schema": self.schemas.ref(STATUS)}},
        }
        return responses

    def _reply_schema(self, output: Descriptor, field: FieldDescriptor | None) -> dict[str, Any]:
        if field is None:
            return self.schemas.message(output)
        schema = self.schemas.field(field)
        if field.message_type is not None and not field.is_repeated:
            name = field.message_type.full_name
            if (name in SPECIAL_JSON_WKTS or name in WRAPPERS) and name != HTTP_BODY:
                # An unset well-known type is written as null (an empty object otherwise).
                return {"anyOf": [schema, {"type": "null"}]}
        return schema


# -- helpers ---------------------------------------------------------------------------------


def _services(routes: Sequence[Route]) -> dict[str, Any]:
    services: dict[str, Any] = {}
    for route in routes:
        service = route.method.containing_service
        services.setdefault(str(service.full_name), service)
    return services


def _short_names(services: dict[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for full_name in services:
        short = full_name.rpartition(".")[2]
        counts[short] = counts.get(short, 0) + 1
    return counts


def _tag_name(full_name: str, services: dict[str, Any]) -> str:
    """The service's short name, or its full name where two services share one."""
    short = full_name.rpartition(".")[2]
    return short if _short_names(services).get(short, 0) <= 1 else full_name


def _op_prefix(full_name: str, services: dict[str, Any]) -> str:
    return _tag_name(full_name, services).replace(".", "_")


def _lower_camel(name: str) -> str:
    """protoc's JSON name rule: drop each ``_`` and capitalise the letter after it."""
    parts = name.split("_")
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


_HEADER_TYPES: Final = {"STRING": "string", "NUMBER": "number", "INTEGER": "integer"}


def _header_parameters(route: Route) -> list[dict[str, Any]]:
    """The header parameters of grpc-gateway's ``openapiv2_operation`` annotation."""
    annotated = _annotations.read(route.method, "operation")
    headers = (annotated.get("parameters") or {}).get("headers") or []
    return [_header_parameter(header) for header in headers]


def _header_parameter(header: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": _HEADER_TYPES.get(header.get("type", ""), "string")}
    if header.get("type") == "BOOLEAN":
        schema = {"type": "boolean"}
    if header.get("format"):
        schema["format"] = header["format"]
    result: dict[str, Any] = {"name": header.get("name", ""), "in": "header", "schema": schema}
    if header.get("description"):
        result["description"] = header["description"]
    if header.get("required"):
        result["required"] = True
    return result
