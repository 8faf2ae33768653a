"""The OpenAPI 3.1 document, built from the route registry and the pydantic models the handlers use (JSON
Schema 2020-12, which OpenAPI 3.1 takes as it is), never written by hand: each route's parameters come from
its parameter model's fields, its request body and responses from its models, and every error it may
answer is an RFC 9457 problem (`application/problem+json`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from bot.entrypoints.api.problems import KINDS, PROBLEM_JSON, RETRY_AFTER, WWW_AUTHENTICATE, Problem
from bot.entrypoints.api.registry import JSON, Route

REF = "#/components/schemas/{model}"
BEARER = "bearer"
_HEADERS = {
    401: {WWW_AUTHENTICATE: "How to authenticate: `Bearer`"},
    405: {"Allow": "The methods the path allows"},
    429: {RETRY_AFTER: "Seconds until the token may make another request"},
    503: {RETRY_AFTER: "Seconds to wait before trying again"},
}
# components/responses names: the problem type's last part in CamelCase (urn:…:not-found → NotFound)
_ERROR_NAMES = {status: kind.rsplit(":", 1)[-1].title().replace("-", "") for status, (kind, _) in KINDS.items()}


def document(routes: Iterable[Route], *, version: str) -> dict[str, Any]:
    """The OpenAPI document of `routes`."""
    routes = list(routes)
    Mode = Literal["validation", "serialization"]
    wanted: list[tuple[type[BaseModel], Mode]] = [(Problem, "serialization")]
    for route in routes:
        wanted += [(m, "validation") for m in (route.params, route.body) if m is not None]
        wanted += [(route.response, "serialization")] if route.response is not None else []
    wanted = list(dict.fromkeys(wanted))
    refs, defs = models_json_schema(wanted, ref_template=REF)
    schemas: dict[str, Any] = dict(defs.get("$defs", {}))
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, refs, schemas)
    for route in routes:  # a parameter model is spread into parameters, not a schema of its own
        if route.params is not None:
            schemas.pop(_name(refs[route.params, "validation"]), None)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Tocsin API",
            "version": version,
            "description": "Read and drive Tocsin's incidents from other programs. See docs/api.md.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": {_ERROR_NAMES[status]: _error(status) for status in sorted(_used_errors(routes))},
            "securitySchemes": {
                BEARER: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token (`tocsin token create`); docs/api-tokens.md",
                }
            },
        },
        "tags": [{"name": name} for name in dict.fromkeys(route.tag for route in routes)],
    }


def _operation(route: Route, refs: dict[Any, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": route.name,
        "summary": route.summary,
        "tags": [route.tag],
        "responses": {},
    }
    description = route.description
    if route.scope is not None:
        description = f"Needs a token with the `{route.scope.value}` scope. {description}".strip()
        operation["security"] = [{BEARER: []}]
        operation["x-scope"] = route.scope.value
    else:
        operation["security"] = []
    if description:
        operation["description"] = description
    parameters = _parameters(route, refs, schemas) + [
        {
            "name": header.name,
            "in": "header",
            "required": False,
            "description": header.description,
            "schema": {"type": "string", "maxLength": header.max_length, "pattern": header.pattern},
        }
        for header in route.headers
    ]
    if parameters:
        operation["parameters"] = parameters
    if route.body is not None:
        operation["requestBody"] = {"required": True, "content": {JSON: {"schema": refs[route.body, "validation"]}}}
    content = (
        {route.media_type: {"schema": refs[route.response, "serialization"]}}
        if route.response is not None
        else {route.media_type: {"schema": {"type": "string"} if route.media_type != JSON else {"type": "object"}}}
    )
    for status in (route.status, *route.also):
        operation["responses"][str(status)] = {"description": _success(status), "content": content}
    for status in route.error_statuses:
        operation["responses"][str(status)] = {"$ref": f"#/components/responses/{_ERROR_NAMES[status]}"}
    return operation


def _parameters(route: Route, refs: dict[Any, Any], schemas: dict[str, Any]) -> list[dict[str, Any]]:
    if route.params is None:
        return []
    model = schemas[_name(refs[route.params, "validation"])]
    required = set(model.get("required", []))
    parameters = []
    for name, schema in model.get("properties", {}).items():
        schema = _present(schema)
        description = schema.pop("description", None)
        where = "path" if name in route.path_params else "query"
        parameter: dict[str, Any] = {"name": name, "in": where, "required": where == "path" or name in required}
        if description:
            parameter["description"] = description
        parameter["schema"] = schema
        parameters.append(parameter)
    return parameters


def _present(schema: dict[str, Any]) -> dict[str, Any]:
    """A parameter's schema without its null: a query parameter is either given or not, never null."""
    schema = {key: value for key, value in schema.items() if key != "title"}
    if schema.get("default", ...) is None:
        del schema["default"]
    variants = [v for v in schema.get("anyOf", []) if v != {"type": "null"}]
    if "anyOf" in schema and len(variants) == 1:
        del schema["anyOf"]
        schema = {**variants[0], **schema}
    elif "anyOf" in schema:
        schema["anyOf"] = variants
    return schema


def _error(status: int) -> dict[str, Any]:
    kind, title = KINDS[status]
    response: dict[str, Any] = {
        "description": f"{title} ({kind})",
        "content": {PROBLEM_JSON: {"schema": {"$ref": REF.format(model="Problem")}}},
    }
    if status in _HEADERS:
        response["headers"] = {
            name: {"description": text, "schema": {"type": "string"}} for name, text in _HEADERS[status].items()
        }
    return response


def _used_errors(routes: list[Route]) -> set[int]:
    return {status for route in routes for status in route.error_statuses}


def _success(status: int) -> str:
    return {200: "OK", 201: "Created"}.get(status, "Success")


def _name(ref: dict[str, Any]) -> str:
    return str(ref["$ref"]).rsplit("/", 1)[-1]
