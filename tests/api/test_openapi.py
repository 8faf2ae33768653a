"""The OpenAPI document: built from the route registry and the handlers' models, valid OpenAPI 3.1,
served without a token, and describing every route the server answers."""

from __future__ import annotations

from openapi_spec_validator import validate

from bot.entrypoints.api.openapi import document
from bot.entrypoints.api.routes import api_routes
from tests.api.conftest import Api


def test_the_document_is_valid_openapi_3_1() -> None:
    built = document(api_routes(version="9.9.9"), version="9.9.9")
    validate(built)
    assert built["openapi"] == "3.1.0" and built["info"]["version"] == "9.9.9"


def test_every_route_is_in_the_document_with_its_scope_and_its_errors_as_problems() -> None:
    routes = api_routes(version="1")
    built = document(routes, version="1")
    for route in routes:
        operation = built["paths"][route.path][route.method.lower()]
        assert operation["operationId"] == route.name
        if route.scope is None:
            assert operation["security"] == []
            continue
        assert operation["security"] == [{"bearer": []}] and operation["x-scope"] == route.scope.value
        for status in ("401", "403", "429", "503"):
            assert operation["responses"][status]["$ref"].startswith("#/components/responses/")
    problems = built["components"]["responses"]
    assert all("application/problem+json" in r["content"] for r in problems.values())
    assert "Retry-After" in problems["RateLimited"]["headers"]
    assert "WWW-Authenticate" in problems["Unauthorized"]["headers"]
    assert built["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": built["components"]["securitySchemes"]["bearer"]["description"],
    }


def test_the_contract_names_are_there() -> None:
    built = document(api_routes(version="1"), version="1")
    item = built["components"]["schemas"]["IncidentItem"]["properties"]
    assert {"id", "reference", "title", "severity", "status", "private", "declared_at"} <= set(item)
    assert set(built["components"]["schemas"]["IncidentList"]["properties"]) == {"items", "next_cursor"}
    declare = built["paths"]["/api/v1/incidents"]["post"]
    assert set(built["components"]["schemas"]["DeclareBody"]["required"]) == {"title", "severity"}
    assert [p["name"] for p in declare["parameters"]] == ["Idempotency-Key"]


async def test_the_document_is_served_without_a_token(api: Api) -> None:
    answer = await api.call("GET", "/api/v1/openapi.json")
    assert answer.status == 200 and answer.media_type == "application/json"
    validate(answer.body)
    assert "/api/v1/incidents/{ref}/timeline" in answer.body["paths"]


async def test_an_unknown_path_or_method_under_the_api_is_a_problem(api: Api) -> None:
    token = await api.token("reader", "incidents:read")
    (await api.call("GET", "/api/v1/nothing-here", token=token)).problem(404)
    (await api.call("GET", "/api/v1", token=token)).problem(404)
    wrong = await api.call("DELETE", "/api/v1/incidents", token=token)
    wrong.problem(405)
    assert wrong.headers["Allow"] == "GET, POST"
