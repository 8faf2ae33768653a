"""Serving the API's routes with aiohttp: the bearer token (401), the token's rate limit (429), its scope
(403), the parameters (400, or 404 for a path naming nothing), the body (413 over 1 MiB, 400 when it is
not JSON, 422 when it does not fit), then the handler; domain errors become their statuses (404 unknown
or not visible, 403 not permitted, 422 invalid, 409 conflict) and a database that is away a 503."""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DBAPIError

from bot.domain.api_tokens import Principal
from bot.domain.errors import NotFoundError, UserError
from bot.domain.permissions import NotPermitted
from bot.entrypoints.api.problems import RETRY_AFTER, WWW_AUTHENTICATE, ApiError, FieldProblem, problem_response
from bot.entrypoints.api.rate_limit import RateLimit
from bot.entrypoints.api.registry import ApiDeps, Call, Reply, Route
from bot.runtime.background import transient
from bot.usecases.api_ports import Caller, Invalid

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # 1 MiB
RETRY_SECONDS = 5  # what a 503 asks a client to wait
API_PREFIX = "/api/v1"


class TokenCheck(Protocol):
    """What authenticates a bearer token (bot.usecases.api_tokens.ApiTokens)."""

    async def authenticate(self, secret: str) -> Principal | None: ...


@dataclass
class ApiServer:
    """The routes, what their handlers call, and what every request is checked with."""

    routes: Sequence[Route]
    deps: ApiDeps
    tokens: TokenCheck
    limit: RateLimit
    workspace: Callable[[], str | None]  # the Slack workspace Tocsin serves (None until Slack has said)

    def add_to(self, app: web.Application) -> None:
        """Serve every route, and a problem+json 404 (or 405) for anything else under /api/v1."""
        for route in self.routes:
            app.router.add_route(route.method, route.path, self._serving(route))
        app.router.add_route("*", API_PREFIX, self._elsewhere)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._elsewhere)

    def _serving(self, route: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def serve(request: web.Request) -> web.StreamResponse:
            try:
                call = await self._call(route, request)
                return _render(route, await route.handler(self.deps, call))
            except ApiError as error:
                return problem_response(error)
            except UserError as error:  # the domain's refusals: not found, not permitted, invalid, conflict
                return problem_response(ApiError(_status_of(error), str(error)))
            except (DBAPIError, OSError, TimeoutError) as exc:
                if not transient(exc):
                    log.exception("API %s %s failed", route.method, route.path)
                    return problem_response(ApiError(500, "Tocsin failed to answer this request; it is logged"))
                log.warning("API %s %s: the database is unreachable (%s)", route.method, route.path, exc)
                detail = f"the database is unreachable ({type(exc).__name__}); try again"
                return problem_response(ApiError(503, detail, headers={RETRY_AFTER: str(RETRY_SECONDS)}))
            except Exception:  # a bug of ours: logged with its traceback, and still answered as a problem
                log.exception("API %s %s failed", route.method, route.path)
                return problem_response(ApiError(500, "Tocsin failed to answer this request; it is logged"))

        return serve

    async def _call(self, route: Route, request: web.Request) -> Call:
        caller = None
        if route.scope is not None:
            team_id = self.workspace()
            if team_id is None:
                detail = "Tocsin does not know its Slack workspace yet (Slack has not answered); try again"
                raise ApiError(503, detail, headers={RETRY_AFTER: str(RETRY_SECONDS)})
            principal = await self._principal(request)
            wait = self.limit.take(principal.name)
            if wait is not None:
                detail = f"this token is over its rate limit ({self.limit.rate:g} requests a second)"
                raise ApiError(429, detail, headers={RETRY_AFTER: str(max(1, math.ceil(wait)))})
            if not principal.may(route.scope):
                raise ApiError(403, f"this token lacks the {route.scope.value} scope")
            caller = Caller(principal, team_id)
        for header in route.headers:
            value = request.headers.get(header.name)
            if value is not None and (len(value) > header.max_length or not re.fullmatch(header.pattern, value)):
                raise ApiError(400, f"the {header.name} header must be {header.description.lower()}")
        return Call(caller, _params(route, request), await _body(route, request), request.headers)

    async def _principal(self, request: web.Request) -> Principal:
        scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            challenge = {WWW_AUTHENTICATE: 'Bearer realm="tocsin"'}
            raise ApiError(401, "send an API token: Authorization: Bearer <token>", headers=challenge)
        principal = await self.tokens.authenticate(secret.strip())
        if principal is None:
            challenge = {WWW_AUTHENTICATE: 'Bearer realm="tocsin", error="invalid_token"'}
            raise ApiError(401, "the token is unknown or revoked", headers=challenge)
        return principal

    async def _elsewhere(self, request: web.Request) -> web.StreamResponse:
        allowed = sorted({r.method for r in self.routes if _template(r.path).fullmatch(request.path)})
        if allowed:
            detail = f"{request.method} is not allowed here; use {', '.join(allowed)}"
            return problem_response(ApiError(405, detail, headers={"Allow": ", ".join(allowed)}))
        return problem_response(ApiError(404, f"there is no API endpoint {request.path[:200]!r}"))


def _status_of(error: UserError) -> int:
    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, NotPermitted):
        return 403
    if isinstance(error, Invalid):
        return 422
    return 409  # the shared use cases refuse what clashes with the incident's state (already resolved…)


def _params(route: Route, request: web.Request) -> BaseModel | None:
    """The path and query parameters, read into the route's model."""
    if route.params is None:
        return None
    raw: dict[str, Any] = {}
    try:
        for name in route.params.model_fields:
            if name in route.path_params:
                raw[name] = request.match_info[name]
                continue
            values = request.query.getall(name, [])
            if len(values) > 1:
                raise ApiError(400, f"the {name} parameter is given more than once")
            if values:
                raw[name] = values[0]
    except UnicodeError:
        raise ApiError(400, "the query string is not valid UTF-8") from None
    try:
        return route.params.model_validate(raw)
    except ValidationError as exc:
        if any(error["loc"] and error["loc"][0] in route.path_params for error in exc.errors()):
            raise ApiError(404, f"there is nothing at {request.path[:200]!r}") from None
        raise ApiError(400, "some parameters are not valid", errors=_problems(exc, "query")) from None


async def _body(route: Route, request: web.Request) -> BaseModel | None:
    """The JSON body, read (up to MAX_BODY) into the route's model."""
    if route.body is None:
        return None
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise ApiError(413, f"the body is over {MAX_BODY // 1024} KiB")
    chunks, size = [], 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if size > MAX_BODY:
            raise ApiError(413, f"the body is over {MAX_BODY // 1024} KiB")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        raise ApiError(400, "this request needs a JSON body")
    try:
        data = json.loads(raw, parse_constant=_no_constant)
    except RecursionError:
        raise ApiError(400, "malformed JSON: nested too deeply") from None
    except ValueError as exc:  # UnicodeDecodeError is a ValueError
        raise ApiError(400, f"malformed JSON: {str(exc)[:200]}") from None
    try:
        return route.body.model_validate(data)
    except ValidationError as exc:
        raise ApiError(422, "the body does not fit this request", errors=_problems(exc, "body")) from None


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def _problems(exc: ValidationError, where: str) -> list[FieldProblem]:
    return [
        FieldProblem(location=".".join([where, *(str(part) for part in error["loc"])]), message=error["msg"])
        for error in exc.errors(include_url=False, include_input=False, include_context=False)
    ]


def _render(route: Route, reply: Reply) -> web.Response:
    if isinstance(reply.body, str):
        return web.Response(
            text=reply.body, status=reply.status, content_type=route.media_type, charset="utf-8", headers=reply.headers
        )
    return web.Response(
        text=reply.body.model_dump_json(), status=reply.status, content_type=route.media_type, headers=reply.headers
    )


def _template(path: str) -> re.Pattern[str]:
    """A route's path as a regular expression (each `{name}` one segment)."""
    return re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)))
