"""Fixtures for the REST API: a real Tocsin (with the Slack double) and a client that calls it with
tokens made the way `tocsin token create` makes them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from multidict import CIMultiDictProxy

from bot.app import Tocsin
from bot.domain.api_tokens import Scope
from bot.domain.policy import SHAPE_ONLY, Policy
from tests.conftest import StartTocsin, settle
from tests.slack_double import SlackDouble

EVERY_SCOPE = tuple(scope.value for scope in Scope)
READER = ("incidents:read",)

# Tokens are named in permissions as token:<name> (the check for that spelling is the policy's: shape only here).
GRANTS = {"resolve": ["incident_commander", "token:writer"], "status": ["incident_commander", "token:writer"]}
POLICY = {
    "schedules": {
        "primary": {
            "timezone": "UTC",
            "rotation": "weekly",
            "handoff": "mon 09:00",
            "users": ["U0ALICE", "U0BOB"],
            "start": "2026-11-02",
        }
    },
    "services": {"checkout": {"keywords": ["checkout"]}},
    "permissions": GRANTS,
}


def granting_policy(**more: Any) -> Policy:
    """A policy with a schedule and a service, where the token named writer may resolve and change status
    (a policy names a token as token:<name>; until the policy's own check knows that spelling, shape only)."""
    return Policy.model_validate({**POLICY, **more}, context={SHAPE_ONLY: True})


@dataclass
class Answer:
    """What the API answered: status, headers, and the body (JSON when it is JSON, else text)."""

    status: int
    headers: CIMultiDictProxy[str]
    body: Any

    @property
    def media_type(self) -> str:
        """The Content-Type without its parameters."""
        return self.headers.get("Content-Type", "").split(";")[0].strip()

    def problem(self, status: int) -> dict[str, Any]:
        """The body, asserted to be an RFC 9457 problem with `status`."""
        assert self.status == status, (self.status, self.body)
        assert self.media_type == "application/problem+json", self.headers
        assert {"type", "title", "status", "detail"} <= set(self.body), self.body
        assert self.body["status"] == status and self.body["type"].startswith("urn:tocsin:problem:")
        assert isinstance(self.body["detail"], str) and self.body["detail"]
        return dict(self.body)


@dataclass
class Api:
    """A running Tocsin and a client for its API."""

    tocsin: Tocsin
    double: SlackDouble
    http: aiohttp.ClientSession
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        """Where the API is served."""
        return f"http://127.0.0.1:{self.tocsin.port}"

    async def token(self, name: str, *scopes: str) -> str:
        """A new token's secret, made as `tocsin token create` makes it."""
        secret = await self.tocsin.deps.api_tokens.create(name, scopes)
        self.tokens[name] = secret
        return secret

    async def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: Any = None,
        raw: bytes | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        """Make a request (with `token` as its bearer) and read the whole answer."""
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if data is not None:
            sent.setdefault("Content-Type", "application/json")
        async with self.http.request(method, self.base + path, data=data, params=params, headers=sent) as response:
            text = await response.text()
            kind = response.headers.get("Content-Type", "")
            parsed = json.loads(text) if "json" in kind and text else text
            return Answer(response.status, response.headers, parsed)

    async def get(self, path: str, token: str, **params: str) -> Answer:
        """GET `path` with `params` as its query."""
        return await self.call("GET", path, token=token, params=params)

    async def post(self, path: str, token: str, body: Any, **headers: str) -> Answer:
        """POST `body` as JSON to `path`."""
        return await self.call("POST", path, token=token, body=body, headers=headers)

    async def declare(self, token: str, title: str, severity: str = "SEV2", **more: Any) -> dict[str, Any]:
        """Declare through the API and wait for its set-up in Slack; the incident as the API answered."""
        answer = await self.post("/api/v1/incidents", token, {"title": title, "severity": severity, **more})
        assert answer.status == 201, answer.body
        await settle(self.tocsin)
        return dict(answer.body)


async def start_api(start_tocsin: StartTocsin, double: SlackDouble, url: str, policy: Policy | None = None) -> Tocsin:
    """A Tocsin for API tests: #incidents as its broadcast channel, with Tocsin in it."""
    double.channel_named("incidents").members.add(double.bot_user_id)
    return await start_tocsin(url, policy=policy)


@pytest.fixture
async def api(start_tocsin: StartTocsin, double: SlackDouble, sqlite_url: str) -> AsyncIterator[Api]:
    """The API of a Tocsin on SQLite."""
    tocsin = await start_api(start_tocsin, double, sqlite_url)
    async with aiohttp.ClientSession() as http:
        yield Api(tocsin, double, http)


@pytest.fixture
async def api_on_both(start_tocsin: StartTocsin, double: SlackDouble, database_url: str) -> AsyncIterator[Api]:
    """The API of a Tocsin on each database (PostgreSQL when TEST_DATABASE_URL is set)."""
    tocsin = await start_api(start_tocsin, double, database_url)
    async with aiohttp.ClientSession() as http:
        yield Api(tocsin, double, http)


OpenApi = Callable[..., Awaitable[Api]]


@pytest.fixture
async def open_api(start_tocsin: StartTocsin, double: SlackDouble) -> AsyncIterator[OpenApi]:
    """Start a Tocsin on a database, with a policy (and settings) of the test's, and a client for its API."""
    async with aiohttp.ClientSession() as http:

        async def open_one(url: str, policy: Policy | None = None, **settings: Any) -> Api:
            double.channel_named("incidents").members.add(double.bot_user_id)
            tocsin = await start_tocsin(url, policy=policy, **settings)
            return Api(tocsin, double, http)

        yield open_one
