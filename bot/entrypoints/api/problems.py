"""API errors as RFC 9457 problem details (`application/problem+json`): the model the OpenAPI document
declares, the exception handlers raise, and the statuses with their types and titles."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER = "Retry-After"
WWW_AUTHENTICATE = "WWW-Authenticate"

# status: (the problem's type, its title). Types are URNs: stable names a client can switch on.
KINDS: dict[int, tuple[str, str]] = {
    400: ("urn:tocsin:problem:malformed", "Malformed request"),
    401: ("urn:tocsin:problem:unauthorized", "Missing or invalid token"),
    403: ("urn:tocsin:problem:forbidden", "Not allowed"),
    404: ("urn:tocsin:problem:not-found", "Not found"),
    405: ("urn:tocsin:problem:method-not-allowed", "Method not allowed"),
    409: ("urn:tocsin:problem:conflict", "Conflict"),
    413: ("urn:tocsin:problem:too-large", "Request body too large"),
    422: ("urn:tocsin:problem:invalid", "Invalid request"),
    429: ("urn:tocsin:problem:rate-limited", "Too many requests"),
    500: ("urn:tocsin:problem:internal", "Internal error"),
    503: ("urn:tocsin:problem:unavailable", "Temporarily unavailable"),
}


class FieldProblem(BaseModel):
    """What is wrong with one field of a request: where it is (`location`, e.g. `body.title`) and why."""

    model_config = ConfigDict(frozen=True)

    location: str
    message: str


class Problem(BaseModel):
    """An error response (RFC 9457): its type (a URN per kind of error), title, HTTP status, what went
    wrong this time (`detail`) and, for a malformed or invalid request, each field at fault."""

    model_config = ConfigDict(frozen=True)

    type: str = Field(description="A URN naming the kind of problem, e.g. urn:tocsin:problem:not-found")
    title: str
    status: int
    detail: str
    errors: list[FieldProblem] | None = None


class ApiError(Exception):
    """An answer other than success: its status, detail, and any headers (Retry-After, WWW-Authenticate)."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
        errors: list[FieldProblem] | None = None,
    ) -> None:
        """Keep what the problem response will carry."""
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})
        self.errors = errors


def problem_response(error: ApiError) -> web.Response:
    """The problem+json response for an error."""
    kind, title = KINDS.get(error.status, KINDS[500])
    problem = Problem(type=kind, title=title, status=error.status, detail=error.detail, errors=error.errors)
    return web.Response(
        text=problem.model_dump_json(exclude_none=True),
        status=error.status,
        content_type=PROBLEM_JSON,
        headers=error.headers,
    )
