"""The route registry: each route declares its method, path, summary, the scope a token needs, its
parameter, body and response models and the errors it may answer. The aiohttp adapter (server.py) serves
the routes and the OpenAPI document (openapi.py) is built from the same declarations, so the two cannot
drift apart."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict, TypeVar

from pydantic import BaseModel
from typing_extensions import Unpack

from bot.domain.api_tokens import Scope
from bot.usecases.api_ports import Caller

if TYPE_CHECKING:
    from bot.usecases.api_reads import ApiReads
    from bot.usecases.api_writes import ApiWrites

M = TypeVar("M", bound=BaseModel)
JSON = "application/json"
MARKDOWN = "text/markdown"


@dataclass(frozen=True)
class ApiDeps:
    """What the handlers call: the API's read and write use cases."""

    reads: ApiReads
    writes: ApiWrites


@dataclass(frozen=True)
class Call:
    """One request as a handler sees it: who is calling (None on an open route), its parameters (path
    and query, read into the route's model), its body (read into the route's model) and its headers."""

    caller: Caller | None
    params: BaseModel | None
    body: BaseModel | None
    headers: Mapping[str, str] = field(default_factory=dict)

    def who(self) -> Caller:
        """The caller of a route that needs a token."""
        assert self.caller is not None
        return self.caller

    def params_as(self, model: type[M]) -> M:
        """The parameters, as the route's model."""
        assert isinstance(self.params, model)
        return self.params

    def body_as(self, model: type[M]) -> M:
        """The body, as the route's model."""
        assert isinstance(self.body, model)
        return self.body


@dataclass(frozen=True)
class Reply:
    """A handler's answer: a model (JSON) or text (the route's media type), its status and headers."""

    body: BaseModel | str
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)


Handler = Callable[[ApiDeps, Call], Awaitable[Reply]]


@dataclass(frozen=True)
class Header:
    """A request header a route reads (documented as a header parameter)."""

    name: str
    description: str
    max_length: int
    pattern: str


@dataclass(frozen=True)
class Route:
    """One operation of the API."""

    method: str
    path: str
    name: str  # the operationId
    summary: str
    handler: Handler
    scope: Scope | None = Scope.INCIDENTS_READ  # the scope a token needs; None: no token (the OpenAPI document)
    params: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    media_type: str = JSON
    status: int = 200
    also: tuple[int, ...] = ()  # other success statuses with the same body (a replayed declaration: 200)
    errors: tuple[int, ...] = ()  # error statuses beyond those the route's shape implies
    headers: tuple[Header, ...] = ()
    description: str = ""
    tag: str = "incidents"

    @property
    def path_params(self) -> set[str]:
        """The names in the path's `{…}` segments."""
        return {part[1:-1] for part in self.path.split("/") if part.startswith("{") and part.endswith("}")}

    @property
    def error_statuses(self) -> list[int]:
        """Every error status the route may answer, as documented."""
        statuses = set(self.errors)
        if self.scope is not None:
            statuses |= {401, 403, 429, 503}
        if self.params is not None and set(self.params.model_fields) - self.path_params:
            statuses.add(400)
        if self.path_params:
            statuses.add(404)
        if self.body is not None:
            statuses |= {400, 413, 422}
        return sorted(statuses)


class Declared(TypedDict, total=False):
    """What a route declares besides its method, path and handler (Route's fields of the same names)."""

    scope: Scope | None
    params: type[BaseModel] | None
    body: type[BaseModel] | None
    response: type[BaseModel] | None
    media_type: str
    status: int
    also: tuple[int, ...]
    errors: tuple[int, ...]
    headers: tuple[Header, ...]
    description: str
    tag: str


class Routes:
    """A module's routes, declared with the `get` and `post` decorators, in order."""

    def __init__(self) -> None:
        """No routes yet."""
        self._routes: list[Route] = []

    def __iter__(self) -> Iterator[Route]:
        """The routes in the order they were declared."""
        return iter(self._routes)

    def get(self, path: str, **declared: Unpack[Declared]) -> Callable[[Handler], Handler]:
        """Declare a GET route served by the decorated handler (its docstring's first line: the summary)."""
        return self._route("GET", path, declared)

    def post(self, path: str, **declared: Unpack[Declared]) -> Callable[[Handler], Handler]:
        """Declare a POST route served by the decorated handler (its docstring's first line: the summary)."""
        return self._route("POST", path, declared)

    def _route(self, method: str, path: str, declared: Declared) -> Callable[[Handler], Handler]:
        def add(handler: Handler) -> Handler:
            summary = (handler.__doc__ or "").strip().splitlines()[0]
            route = Route(method=method, path=path, name=handler.__name__, summary=summary, handler=handler, **declared)
            self._routes.append(route)
            return handler

        return add
