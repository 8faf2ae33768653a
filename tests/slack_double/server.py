"""A strict Slack stand-in: the Web API methods Tocsin calls, with Slack's documented rules, plus the
delivery side (signed HTTP requests and Socket Mode envelopes) that plays the part of users.

It rejects what Slack rejects: invalid channel names and `name_taken`, calls from outside a channel
(`not_in_channel`), scopes the manifest does not grant (`missing_scope`), Block Kit beyond its limits,
expired or reused trigger_ids, exhausted response_urls, and 429 with Retry-After when told to. It reads
messages as Slack does: conversations.history holds a channel's top-level messages, conversations.replies
a thread (a reply is found only there).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import hmac
import itertools
import json
import math
import random
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import yaml
from aiohttp import web

from tests.slack_double.blockkit import validate_blocks, validate_view
from tests.slack_double.channel_methods import ChannelContextMethods
from tests.slack_double.usergroup_methods import UserGroupMethods
from tests.slack_double.view_methods import ViewMethods

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"
CHANNEL_NAME = re.compile(r"^[a-z0-9_-]+$")
TRIGGER_LIFETIME = 3.0
RESPONSE_URL_USES = 5
RESPONSE_URL_LIFETIME = 30 * 60
ACK_DEADLINE = 3.0
MAX_TOPIC = 250

# Bot-token scopes each method needs (Slack's method reference).
METHOD_SCOPES: dict[str, set[str]] = {
    "conversations.create": {"channels:manage"},
    "conversations.invite": {"channels:manage"},
    "conversations.setTopic": {"channels:manage"},
    "conversations.setPurpose": {"channels:manage"},
    "conversations.join": {"channels:join"},
    "conversations.info": {"channels:read"},
    "conversations.list": {"channels:read"},
    "conversations.members": {"channels:read"},
    "conversations.archive": {"channels:manage"},
    "chat.postMessage": {"chat:write"},
    "chat.postEphemeral": {"chat:write"},
    "chat.update": {"chat:write"},
    "conversations.history": {"channels:history"},
    "conversations.replies": {"channels:history"},
    "pins.add": {"pins:write"},
    "users.info": {"users:read"},
    "users.lookupByEmail": {"users:read.email"},
    "usergroups.users.list": {"usergroups:read"},
    "reactions.add": {"reactions:write"},
    "conversations.canvases.create": {"canvases:write"},
    "canvases.edit": {"canvases:write"},
    "files.getUploadURLExternal": {"files:write"},
    "files.completeUploadExternal": {"files:write"},
}
# Web API rate tiers (calls a minute per workspace, with bursts allowed), from Slack's method reference.
METHOD_TIERS: dict[str, int] = {
    "conversations.create": 20,
    "conversations.setTopic": 20,
    "conversations.setPurpose": 20,
    "pins.add": 20,
    "conversations.list": 20,
    "conversations.invite": 50,
    "chat.update": 50,
    "conversations.history": 50,
    "conversations.replies": 50,
    "conversations.info": 50,
    "users.lookupByEmail": 50,
    "chat.postEphemeral": 100,
    "views.open": 100,
    "views.publish": 100,
    "users.info": 100,
}
# On a private channel a method needs the groups:* scope instead of its channels:* one (Slack's method
# reference lists both; the channel's type decides which applies).
PRIVATE_SCOPES = {
    "channels:manage": "groups:write",
    "channels:read": "groups:read",
    "channels:history": "groups:history",
}
MAX_CANVAS_MARKDOWN = 1_048_576  # conversations.canvases.create: "limited to 1 MiB"
OIDC_METHODS = {"openid.connect.token", "openid.connect.userInfo"}
CANVAS_EDIT_OPERATIONS = {"insert_after", "insert_before", "insert_at_start", "insert_at_end", "replace", "delete"}


class SlackError(Exception):
    """A Web API error response."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool = False
    is_im: bool = False
    members: set[str] = field(default_factory=set)
    topic: str = ""
    purpose: str = ""
    messages: list[dict[str, Any]] = field(default_factory=list)
    pins: set[str] = field(default_factory=set)
    last_post: float = 0.0
    canvas_id: str | None = None  # the channel canvas (one per channel)
    creator: str = "U0ADMIN"
    is_archived: bool = False


@dataclass
class Call:
    """One Web API call as the double saw it."""

    method: str
    args: dict[str, Any]
    started: float
    ended: float = 0.0
    error: str | None = None


@dataclass
class Ack:
    """What the app answered to a delivered request, and how fast."""

    status: int
    body: Any
    seconds: float

    @property
    def text(self) -> str:
        if isinstance(self.body, dict):
            return str(self.body.get("text", ""))
        return str(self.body or "")


@dataclass
class ResponseUrl:
    id: str
    user_id: str
    channel_id: str
    created: float
    uses: int = 0


def _ts_counter() -> itertools.count[int]:
    return itertools.count(1)


class SlackDouble(ChannelContextMethods, UserGroupMethods, ViewMethods):
    """The fake Slack workspace; `await start()` it, point the app's SLACK_API_URL at `api_url`."""

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-test-token",
        app_token: str = "xapp-test-token",
        signing_secret: str = "test-signing-secret",
        team_id: str = "T0TOCSIN",
        scopes: set[str] | None = None,
    ) -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.signing_secret = signing_secret
        self.team_id = team_id
        self.scopes = scopes if scopes is not None else manifest_bot_scopes()
        self.bot_user_id = "U0TOCSINBOT"
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, Channel] = {}
        self.calls: list[Call] = []
        self.latency = 0.0
        self.post_interval_per_channel: float | None = None  # Slack: about one message a second
        self.app_url: str | None = None
        self._ids = itertools.count(1)
        self._ts = 1_700_000_000.000100
        self._triggers: dict[str, tuple[float, bool]] = {}
        self._response_urls: dict[str, ResponseUrl] = {}
        self.responses: list[dict[str, Any]] = []  # what was posted to response_urls
        self.ephemerals: list[dict[str, Any]] = []  # chat.postEphemeral and ephemeral responses
        self.views: dict[str, dict[str, Any]] = {}
        self.home_views: dict[str, dict[str, Any]] = {}
        self.groups: dict[str, set[str]] = {}
        # Canvases and files v2. `canvas_tier` False plays a free workspace, which refuses channel canvases.
        self.canvas_tier = True
        self.canvases: dict[str, dict[str, Any]] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self._pending_uploads: dict[str, dict[str, Any]] = {}
        self.events_delivered: list[dict[str, Any]] = []
        self._forced_errors: dict[str, list[tuple[str, int | None]]] = {}
        # Faults on demand: a share of calls answering HTTP 500, the Web API tiers enforced (a minute
        # lasting `tier_minute` seconds, so tests stay quick), and calls that never answer (a crash).
        self.server_error_rate = 0.0
        self.random = random.Random(1)
        self.enforce_tiers = False
        self.tier_minute = 60.0
        self._buckets: dict[str, tuple[float, float]] = {}
        self._hangs: dict[str, list[tuple[str, Callable[[dict[str, Any]], bool] | None]]] = {}
        self._hung = asyncio.Event()
        self._method = ""  # the Web API method being answered (a private channel's scopes depend on it)
        self.hung_calls: list[Call] = []
        self._sockets: list[web.WebSocketResponse] = []
        self._socket_acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None  # plays Slack's side of request delivery
        self.base_url = ""
        # Sign in with Slack (OpenID Connect): the app's OAuth client and the redirect URLs it registered;
        # who the browser is signed in to Slack as (None: the person cancels), and their workspace.
        self.client_id = "1000000001.2000000002"
        self.client_secret = "test-client-secret"
        self.redirect_urls: set[str] = set()
        self.oidc_user: str | None = None
        self.oidc_team: str | None = None  # None: this workspace
        self._oidc_codes: dict[str, dict[str, Any]] = {}
        self._oidc_tokens: dict[str, dict[str, Any]] = {}
        self.add_user(self.bot_user_id, "tocsin", is_bot=True)

    # ----- workspace set-up ---------------------------------------------------------------------
    def add_user(self, user_id: str, name: str, *, is_bot: bool = False, email: str | None = None) -> str:
        self.users[user_id] = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "real_name": name.title(),
            "is_bot": is_bot,
            "tz": "Europe/London",
            "profile": {"email": email or f"{name}@example.com", "display_name": name},
        }
        return user_id

    def add_channel(self, name: str, *, members: set[str] | None = None, bot_member: bool = False) -> Channel:
        channel = Channel(id=self._new_id("C"), name=name, members=set(members or ()))
        if bot_member:
            channel.members.add(self.bot_user_id)
        self.channels[channel.id] = channel
        return channel

    def find_channel_named(self, name: str) -> Channel | None:
        """The channel (not a DM) called `name`, with or without its `#`; None when there is none."""
        return next((c for c in self.channels.values() if c.name == name.lstrip("#") and not c.is_im), None)

    def channel_named(self, name: str) -> Channel:
        """The channel (not a DM) called `name`, with or without its `#`; LookupError when there is none."""
        channel = self.find_channel_named(name)
        if channel is None:
            raise LookupError(f"no channel is called {name!r}")
        return channel

    def fail_next(
        self, method: str, error: str = "ratelimited", *, retry_after: int | None = 1, times: int = 1
    ) -> None:
        """Make the next `times` calls of `method` fail (ratelimited answers 429 + Retry-After)."""
        self._forced_errors.setdefault(method, []).extend([(error, retry_after)] * times)

    def hang_next(
        self, method: str, *, when: str = "after", where: Callable[[dict[str, Any]], bool] | None = None
    ) -> None:
        """The next call of `method` (whose arguments satisfy `where`) never answers: `after` Slack did
        it, or `before`. Plays a process killed in the middle of that call."""
        self._hangs.setdefault(method, []).append((when, where))

    def _hang_for(self, method: str, args: dict[str, Any]) -> str | None:
        for index, (when, where) in enumerate(self._hangs.get(method, [])):
            if where is None or where(args):
                del self._hangs[method][index]
                return when
        return None

    def _rate_limited(self, method: str) -> float | None:
        """Seconds to Retry-After when `method`'s tier is used up (token bucket per method)."""
        per_minute = METHOD_TIERS.get(method)
        if not self.enforce_tiers or per_minute is None:
            return None
        now = time.monotonic()
        tokens, last = self._buckets.get(method, (float(per_minute), now))
        tokens = min(float(per_minute), tokens + (now - last) * per_minute / self.tier_minute)
        if tokens < 1:
            self._buckets[method] = (tokens, now)
            return (1 - tokens) * self.tier_minute / per_minute
        self._buckets[method] = (tokens - 1, now)
        return None

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.error is None]

    def messages_in(self, channel: str) -> list[dict[str, Any]]:
        found = self.channels.get(channel) or self.find_channel_named(channel)
        return list(found.messages) if found else []

    def dm_messages(self, user_id: str) -> list[dict[str, Any]]:
        return [m for c in self.channels.values() if c.is_im and user_id in c.members for m in c.messages]

    def replies_to(self, user_id: str) -> list[str]:
        """Text of everything sent privately to a user: response_url replies, ephemerals and DMs."""
        texts = [r["text"] for r in self.responses if r["user_id"] == user_id and r.get("text")]
        texts += [e["text"] for e in self.ephemerals if e["user"] == user_id and e.get("text")]
        texts += [m.get("text", "") for m in self.dm_messages(user_id)]
        return texts

    # ----- server -------------------------------------------------------------------------------
    async def start(self) -> SlackDouble:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/respond/{id}", self._respond)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/socket", self._socket)
        app.router.add_get("/openid/connect/authorize", self._oidc_authorize)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    async def stop(self) -> None:
        self._hung.set()
        if self._client is not None:
            await self._client.close()
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    def _next_ts(self) -> str:
        self._ts += 0.000100
        return f"{self._ts:.6f}"

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await _read_args(request)
        call = Call(method=method, args=args, started=time.monotonic())
        self.calls.append(call)
        if self.latency:
            await asyncio.sleep(self.latency)
        try:
            forced = self._forced_errors.get(method)
            if forced:
                error, retry_after = forced.pop(0)
                if error == "ratelimited":
                    raise SlackError("ratelimited", retry_after=retry_after or 1)
                if error == "server_error":
                    return self._server_error(call)
                raise SlackError(error)
            if self.server_error_rate and self.random.random() < self.server_error_rate:
                return self._server_error(call)
            if (wait := self._rate_limited(method)) is not None:
                raise SlackError("ratelimited", retry_after=max(1, math.ceil(wait)))
            when = self._hang_for(method, args)
            if when == "before":
                return await self._hang(call)
            self._method = method
            if method in OIDC_METHODS:  # authenticated by the app's client secret or a user's token
                return web.json_response({"ok": True, **self._oidc_method(method, request, args)})
            token = _token(request, args)
            handler = getattr(self, "m_" + method.replace(".", "_"), None)
            if handler is None:
                raise SlackError("unknown_method")
            if method == "apps.connections.open":
                if token != self.app_token:
                    raise SlackError("invalid_auth")
            elif token != self.bot_token:
                raise SlackError("invalid_auth" if token else "not_authed")
            needed = METHOD_SCOPES.get(method, set())
            if (method == "conversations.create" and _truthy(args.get("is_private"))) or (
                method == "conversations.list" and "private_channel" in str(args.get("types"))
            ):
                needed = {PRIVATE_SCOPES.get(s, s) for s in needed}
            missing = needed - self.scopes
            if missing:
                raise SlackError("missing_scope", needed=",".join(sorted(missing)))
            body = handler(args)
            if when == "after":
                return await self._hang(call)
            return web.json_response({"ok": True, **body})
        except SlackError as exc:
            call.error = exc.error
            if exc.error == "ratelimited":
                retry_header = str(exc.extra.get("retry_after", 1))
                return web.json_response(
                    {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": retry_header}
                )
            return web.json_response({"ok": False, "error": exc.error, **exc.extra})
        finally:
            call.ended = time.monotonic()

    def _server_error(self, call: Call) -> web.Response:
        call.error = "server_error"
        return web.json_response({"ok": False, "error": "internal_error"}, status=500)

    async def _hang(self, call: Call) -> web.Response:
        call.error = "hung"
        self.hung_calls.append(call)
        await self._hung.wait()  # released only when the double stops
        return web.json_response({"ok": False, "error": "hung"}, status=500)

    # ----- Sign in with Slack (OpenID Connect) --------------------------------------------------------
    async def _oidc_authorize(self, request: web.Request) -> web.Response:
        """The browser's stop at Slack: checks the request as Slack does, then sends the browser straight
        back to redirect_uri with a code for `oidc_user` (or `error=access_denied` when it is None)."""
        query = request.query
        redirect_uri, state = query.get("redirect_uri", ""), query.get("state", "")
        if query.get("client_id") != self.client_id:
            return web.Response(status=400, text="invalid_client_id")
        if redirect_uri not in self.redirect_urls:
            return web.Response(status=400, text="bad_redirect_uri: not one of the app's redirect URLs")
        if query.get("response_type") != "code" or "openid" not in query.get("scope", "").split(" "):
            return web.Response(status=400, text="invalid_scope: response_type=code and scope openid are required")
        back = {"state": state} if state else {}
        user_id = self.oidc_user
        if user_id is None:
            raise web.HTTPFound(f"{redirect_uri}?{urlencode({'error': 'access_denied', **back})}")
        team_id = self.oidc_team or self.team_id
        if team_id == self.team_id and user_id not in self.users:
            return web.Response(status=400, text=f"no user {user_id} in this workspace")
        code = f"{uuid.uuid4().hex}.{uuid.uuid4().hex}"
        self._oidc_codes[code] = {
            "user": user_id,
            "team": team_id,
            "nonce": query.get("nonce"),
            "redirect_uri": redirect_uri,
            "issued": time.time(),
            "used": False,
        }
        raise web.HTTPFound(f"{redirect_uri}?{urlencode({'code': code, **back})}")

    def _oidc_method(self, method: str, request: web.Request, args: dict[str, Any]) -> dict[str, Any]:
        if method == "openid.connect.token":
            return self._oidc_token(request, args)
        token = _token(request, args)
        if not token:
            raise SlackError("not_authed")
        grant = self._oidc_tokens.get(token)
        if grant is None:
            raise SlackError("invalid_auth")
        return self._oidc_claims(grant)

    def _oidc_token(self, request: web.Request, args: dict[str, Any]) -> dict[str, Any]:
        """openid.connect.token: the client authenticates (HTTP Basic, or client_id and client_secret in
        the body), the code is one this double issued to it, unused, under 10 minutes old, and the
        redirect_uri is the one the authorize request named."""
        client_id, client_secret = args.get("client_id"), args.get("client_secret")
        basic = request.headers.get("Authorization", "")
        if basic.startswith("Basic "):
            with contextlib.suppress(binascii.Error, ValueError):
                client_id, _, client_secret = base64.b64decode(basic[6:]).decode().partition(":")
        if client_id != self.client_id:
            raise SlackError("invalid_client_id")
        if client_secret != self.client_secret:
            raise SlackError("bad_client_secret")
        if args.get("grant_type", "authorization_code") != "authorization_code":
            raise SlackError("invalid_grant_type")
        grant = self._oidc_codes.get(str(args.get("code")))
        if grant is None or grant["used"] or time.time() - grant["issued"] > 600:
            raise SlackError("invalid_code")
        grant["used"] = True
        if args.get("redirect_uri") != grant["redirect_uri"]:
            raise SlackError("bad_redirect_uri")
        access_token = f"xoxp-oidc-{uuid.uuid4().hex}"
        self._oidc_tokens[access_token] = grant
        claims = {**self._oidc_claims(grant), "iss": "https://slack.com", "aud": self.client_id}
        now = int(time.time())
        claims.update(iat=now, exp=now + 3600, auth_time=now)
        if grant["nonce"]:
            claims["nonce"] = grant["nonce"]
        return {"access_token": access_token, "token_type": "Bearer", "id_token": _jwt(claims, self.client_secret)}

    def _oidc_claims(self, grant: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(grant["user"], {"name": grant["user"].lower(), "profile": {}})
        return {
            "sub": grant["user"],
            "https://slack.com/user_id": grant["user"],
            "https://slack.com/team_id": grant["team"],
            "https://slack.com/team_name": "Tocsin Test" if grant["team"] == self.team_id else "Elsewhere",
            "name": user.get("real_name") or user["name"],
            "email": user["profile"].get("email") or f"{user['name']}@example.com",
            "email_verified": True,
        }

    # ----- Web API methods ----------------------------------------------------------------------
    def m_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://tocsin-test.slack.com/",
            "team": "Tocsin Test",
            "user": "tocsin",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": "B0TOCSIN",
        }

    def m_apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"url": f"ws{self.base_url.removeprefix('http')}/socket?ticket={uuid.uuid4()}"}

    def _channel(self, args: dict[str, Any], key: str = "channel", *, by_name: bool = False) -> Channel:
        """The channel an argument names: by ID, or (chat.postMessage only, as on Slack) by #name."""
        ref = args.get(key)
        if not ref:
            raise SlackError("channel_not_found")
        by_its_name = by_name and str(ref).startswith("#")
        channel = self.channels.get(ref) or (self.find_channel_named(ref) if by_its_name else None)
        if channel is None:
            raise SlackError("channel_not_found")
        if channel.is_private and not channel.is_im:
            # A private channel does not exist for anyone outside it, and reaching it takes groups:* scopes.
            if self.bot_user_id not in channel.members:
                raise SlackError("channel_not_found")
            needed = {PRIVATE_SCOPES[s] for s in METHOD_SCOPES.get(self._method, set()) if s in PRIVATE_SCOPES}
            if needed - self.scopes:
                raise SlackError("missing_scope", needed=",".join(sorted(needed - self.scopes)))
        return channel

    def _require_member(self, channel: Channel) -> None:
        if self.bot_user_id not in channel.members:
            raise SlackError("not_in_channel")

    def m_conversations_create(self, args: dict[str, Any]) -> dict[str, Any]:
        name = str(args.get("name", ""))
        if not name:
            raise SlackError("invalid_name_required")
        if len(name) > 80:
            raise SlackError("invalid_name_maxlength")
        if not CHANNEL_NAME.match(name):
            raise SlackError("invalid_name_specials")
        if self.find_channel_named(name) is not None:
            raise SlackError("name_taken")
        channel = Channel(id=self._new_id("C"), name=name, is_private=_truthy(args.get("is_private")))
        channel.creator = self.bot_user_id
        channel.members.add(self.bot_user_id)
        self.channels[channel.id] = channel
        return {"channel": _channel_json(channel, self.bot_user_id)}

    def m_conversations_invite(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        self._require_member(channel)
        users = [u for u in str(args.get("users", "")).split(",") if u]
        if not users:
            raise SlackError("no_user")
        if len(users) > 1000:
            raise SlackError("too_many_users")
        if self.bot_user_id in users:
            raise SlackError("cant_invite_self")
        unknown = [u for u in users if u not in self.users]
        if unknown and not _truthy(args.get("force")):
            raise SlackError("user_not_found")
        valid = [u for u in users if u in self.users]
        if valid and all(u in channel.members for u in valid):
            raise SlackError("already_in_channel")
        channel.members.update(valid)
        return {"channel": _channel_json(channel, self.bot_user_id)}

    def m_conversations_join(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        if channel.is_private:
            raise SlackError("method_not_supported_for_channel_type")
        channel.members.add(self.bot_user_id)
        return {"channel": _channel_json(channel, self.bot_user_id)}

    def m_conversations_list(self, args: dict[str, Any]) -> dict[str, Any]:
        types = set(str(args.get("types") or "public_channel").split(","))
        limit = min(int(args.get("limit") or 100), 1000)
        start = int(args.get("cursor") or 0)
        wanted = [
            c
            for c in self.channels.values()
            if not c.is_im
            and (("private_channel" in types) if c.is_private else ("public_channel" in types))
            and (not c.is_private or self.bot_user_id in c.members)
            and not (c.is_archived and _truthy(args.get("exclude_archived")))
        ]
        page = wanted[start : start + limit]
        more = start + limit < len(wanted)
        return {
            "channels": [_channel_json(c, self.bot_user_id) for c in page],
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def m_conversations_members(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        limit = min(int(args.get("limit") or 100), 1000)
        start = int(args.get("cursor") or 0)
        members = sorted(channel.members)
        more = start + limit < len(members)
        return {
            "members": members[start : start + limit],
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def m_conversations_archive(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        self._require_member(channel)
        if channel.is_archived:
            raise SlackError("already_archived")
        channel.is_archived = True
        return {}

    def m_conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"channel": _channel_json(self._channel(args), self.bot_user_id)}

    def _set_channel_text(self, args: dict[str, Any], key: str) -> Channel:
        channel = self._channel(args)
        self._require_member(channel)
        value = str(args.get(key, ""))
        if len(value) > MAX_TOPIC:
            raise SlackError("too_long")
        setattr(channel, key, value)
        return channel

    def m_conversations_setTopic(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"channel": _channel_json(self._set_channel_text(args, "topic"), self.bot_user_id)}

    def m_conversations_setPurpose(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"channel": _channel_json(self._set_channel_text(args, "purpose"), self.bot_user_id)}

    def _im_with(self, user_id: str) -> Channel:
        for channel in self.channels.values():
            if channel.is_im and user_id in channel.members:
                return channel
        channel = Channel(id=self._new_id("D"), name=user_id, is_im=True, members={user_id, self.bot_user_id})
        self.channels[channel.id] = channel
        return channel

    def _check_message(self, args: dict[str, Any]) -> None:
        text, blocks = args.get("text"), args.get("blocks")
        if not text and not blocks:
            raise SlackError("no_text")
        if text and len(text) > 40_000:
            raise SlackError("msg_too_long")
        if blocks is not None:
            errors = validate_blocks(blocks, "message")
            for block in blocks if isinstance(blocks, list) else []:
                file_id = (block.get("slack_file") or {}).get("id") if isinstance(block, dict) else None
                if file_id is not None and file_id not in self.files:
                    errors.append(f"invalid slack_file id {file_id}: no such file")
            if errors:
                raise SlackError("invalid_blocks", errors=errors)

    def m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        ref = str(args.get("channel", ""))
        if ref in self.users:
            channel = self._im_with(ref)
        else:
            channel = self._channel(args, by_name=True)
            # chat:write.public lets a bot post in public channels it has not joined.
            can_post_unjoined = not channel.is_private and "chat:write.public" in self.scopes
            if self.bot_user_id not in channel.members and not can_post_unjoined:
                raise SlackError("not_in_channel")
            if channel.is_archived:
                raise SlackError("is_archived")
        self._check_message(args)
        now = time.monotonic()
        if self.post_interval_per_channel and now - channel.last_post < self.post_interval_per_channel:
            raise SlackError("ratelimited", retry_after=1)
        channel.last_post = now
        message = {
            "type": "message",
            "ts": self._next_ts(),
            "user": self.bot_user_id,
            "text": args.get("text", ""),
            "blocks": args.get("blocks") or [],
        }
        if args.get("thread_ts"):
            self._into_thread(channel, message, str(args["thread_ts"]), broadcast=_truthy(args.get("reply_broadcast")))
        channel.messages.append(message)
        return {"channel": channel.id, "ts": message["ts"], "message": message}

    def m_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        message = next((m for m in channel.messages if m["ts"] == args.get("ts")), None)
        if message is None:
            raise SlackError("message_not_found")
        if message["user"] != self.bot_user_id:
            raise SlackError("cant_update_message")
        self._check_message(args)
        message.update(text=args.get("text", ""), blocks=args.get("blocks") or [])
        return {"channel": channel.id, "ts": message["ts"], "text": message["text"]}

    def m_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        if self.bot_user_id not in channel.members and (channel.is_private or "chat:write.public" not in self.scopes):
            raise SlackError("not_in_channel")
        user = args.get("user")
        if user not in self.users:
            raise SlackError("user_not_found")
        if user not in channel.members:
            raise SlackError("user_not_in_channel")
        self._check_message(args)
        self.ephemerals.append({"channel": channel.id, "user": user, "text": args.get("text", ""), **args})
        return {"message_ts": self._next_ts()}

    def m_pins_add(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        self._require_member(channel)
        ts = args.get("timestamp")
        if not any(m["ts"] == ts for m in channel.messages):
            raise SlackError("message_not_found")
        if ts in channel.pins:
            raise SlackError("already_pinned")
        channel.pins.add(str(ts))
        return {}

    # ----- canvases and files v2 ------------------------------------------------------------------
    def m_conversations_canvases_create(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args, "channel_id")
        self._require_member(channel)
        if not self.canvas_tier:
            raise SlackError("team_tier_cannot_create_channel_canvases")
        if channel.canvas_id is not None:
            raise SlackError("channel_canvas_already_exists")
        markdown = _document_markdown(args.get("document_content"))
        canvas_id = self._new_id("F")
        self.canvases[canvas_id] = {"channel": channel.id, "title": args.get("title"), "markdown": markdown}
        channel.canvas_id = canvas_id
        return {"canvas_id": canvas_id}

    def m_canvases_edit(self, args: dict[str, Any]) -> dict[str, Any]:
        canvas = self.canvases.get(str(args.get("canvas_id")))
        if canvas is None:
            raise SlackError("canvas_not_found")
        changes = _json_arg(args.get("changes"))
        if not isinstance(changes, list) or not changes:
            raise SlackError("invalid_arguments")
        for change in changes:
            operation = change.get("operation")
            if operation not in CANVAS_EDIT_OPERATIONS:
                raise SlackError("invalid_arguments")
            if operation == "replace" and "section_id" not in change:
                canvas["markdown"] = _document_markdown(change.get("document_content"))
            elif operation == "insert_at_end":
                canvas["markdown"] += _document_markdown(change.get("document_content"))
        return {}

    def m_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        filename, length = args.get("filename"), args.get("length")
        if not filename or length is None or length == "":
            raise SlackError("invalid_arguments")
        file_id = self._new_id("F")
        self._pending_uploads[file_id] = {"filename": filename, "length": int(length), "data": None}
        return {"upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    async def _upload(self, request: web.Request) -> web.Response:
        pending = self._pending_uploads.get(request.match_info["file_id"])
        if pending is None:
            return web.Response(status=404, text="upload URL unknown")
        pending["data"] = await request.read()
        return web.Response(text=f"OK - {len(pending['data'])}")

    def m_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        items = _json_arg(args.get("files"))
        if not isinstance(items, list) or not items:
            raise SlackError("invalid_arguments")
        channel = self._channel(args, "channel_id") if args.get("channel_id") else None
        if channel is not None:
            self._require_member(channel)
        completed = []
        for item in items:
            pending = self._pending_uploads.get(str(item.get("id")))
            if pending is None or pending["data"] is None:
                raise SlackError("file_not_found")  # never uploaded to its URL
            if len(pending["data"]) != pending["length"]:
                raise SlackError("file_upload_size_mismatch")
            file_id = str(item["id"])
            del self._pending_uploads[file_id]
            record = {
                "id": file_id,
                "name": pending["filename"],
                "title": item.get("title") or pending["filename"],
                "content": pending["data"],
                "channels": [channel.id] if channel else [],
                "permalink": f"https://tocsin-test.slack.com/files/{self.bot_user_id}/{file_id}/{pending['filename']}",
            }
            self.files[file_id] = record
            completed.append({k: v for k, v in record.items() if k != "content"})
            if channel is not None:
                comment = args.get("initial_comment") or ""
                channel.messages.append(
                    {
                        "type": "message",
                        "ts": self._next_ts(),
                        "user": self.bot_user_id,
                        "text": comment,
                        "files": [{"id": file_id, "name": pending["filename"]}],
                        "blocks": [],
                    }
                )
        return {"files": completed}

    def m_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        trigger_id = args.get("trigger_id")
        if not isinstance(trigger_id, str) or trigger_id not in self._triggers:
            raise SlackError("invalid_trigger_id")
        issued, used = self._triggers[trigger_id]
        if used:
            raise SlackError("exchanged_trigger_id")
        if time.monotonic() - issued > TRIGGER_LIFETIME:
            raise SlackError("expired_trigger_id")
        self._triggers[trigger_id] = (issued, True)
        view = args.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        errors = validate_view(view)
        if errors or not isinstance(view, dict):  # a view that is not an object has errors
            raise SlackError("invalid_arguments", response_metadata={"messages": errors})
        stored = {**view, "id": self._new_id("V"), "hash": uuid.uuid4().hex, "team_id": self.team_id}
        self.views[stored["id"]] = stored
        return {"view": stored}

    # ----- reading messages: a channel's history and its threads ---------------------------------
    # Every message of a channel is kept in `Channel.messages` in the order posted, replies included (a
    # reply has `thread_ts`, its parent's ts); these two methods show them as Slack's reference does.
    def m_conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        """The channel's messages, newest first: top-level ones only (a thread's parent carries its
        thread's summary; a reply also sent to the channel appears too), between `oldest` and `latest`."""
        channel = self._channel(args)
        self._require_member(channel)
        within = _time_range(args)
        found = [self._as_seen(channel, m) for m in reversed(channel.messages) if _top_level(m) and within(m["ts"])]
        return _page(found, args, default_limit=100)

    def m_conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        """A thread, oldest first: its parent, then its replies (within `oldest`/`latest` like history).
        The ts of a message that starts no thread (an ordinary message, or a reply) gives just that
        message; a ts that names no message is `thread_not_found`."""
        channel = self._channel(args)
        self._require_member(channel)
        message = next((m for m in channel.messages if m["ts"] == args.get("ts")), None)
        if message is None:
            raise SlackError("thread_not_found")
        within = _time_range(args)
        thread = [message, *self._replies(channel, message)]
        return _page([self._as_seen(channel, m) for m in thread if within(m["ts"])], args, default_limit=1000)

    def _replies(self, channel: Channel, message: dict[str, Any]) -> list[dict[str, Any]]:
        """The replies in the thread `message` starts, oldest first (none when it is itself a reply)."""
        if _is_reply(message):
            return []
        return [m for m in channel.messages if m.get("thread_ts") == message["ts"] and m["ts"] != message["ts"]]

    def _as_seen(self, channel: Channel, message: dict[str, Any]) -> dict[str, Any]:
        """A stored message as the Web API and events show it: a copy, and a thread's parent carries the
        thread's summary (thread_ts, reply_count, reply_users, latest_reply)."""
        seen: dict[str, Any] = json.loads(json.dumps(message))
        replies = self._replies(channel, message)
        if replies:
            users = list(dict.fromkeys(str(m.get("user")) for m in replies))
            seen.update(
                thread_ts=message["ts"],
                reply_count=len(replies),
                reply_users_count=len(users),
                reply_users=users,
                latest_reply=replies[-1]["ts"],
            )
        return seen

    def _into_thread(self, channel: Channel, message: dict[str, Any], thread_ts: str, *, broadcast: bool) -> None:
        """Make `message` a reply in the thread of `thread_ts` (also shown in the channel when `broadcast`)."""
        message["thread_ts"] = thread_ts
        parent = next((m for m in channel.messages if m["ts"] == thread_ts), None)
        if parent is not None:
            message["parent_user_id"] = parent.get("user")
        if broadcast:
            message["subtype"] = "thread_broadcast"

    def m_chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(args)
        ts = str(args.get("message_ts", ""))
        message = next((m for m in channel.messages if m["ts"] == ts), None)
        if message is None:
            raise SlackError("message_not_found")
        return {"channel": channel.id, "permalink": _permalink(channel.id, ts, message.get("thread_ts"))}

    def m_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = str(args.get("user_id", ""))
        if user_id not in self.users:
            raise SlackError("user_not_found")
        view = args.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        if not isinstance(view, dict) or view.get("type") != "home":
            raise SlackError("invalid_arguments")
        errors = validate_view(view)
        if errors:
            raise SlackError("invalid_arguments", response_metadata={"messages": errors})
        self.home_views[user_id] = view
        return {"view": {**view, "id": self._new_id("V")}}

    def m_usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        group = self.groups.get(str(args.get("usergroup", "")))
        if group is None:
            raise SlackError("no_such_subteam")
        return {"users": sorted(group)}

    def m_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(args.get("user")))
        if user is None:
            raise SlackError("user_not_found")
        return {"user": user}

    def m_users_lookupByEmail(self, args: dict[str, Any]) -> dict[str, Any]:
        for user in self.users.values():
            if user["profile"]["email"] == args.get("email"):
                return {"user": user}
        raise SlackError("users_not_found")

    # ----- response_url -------------------------------------------------------------------------
    def _new_response_url(self, user_id: str, channel_id: str) -> str:
        entry = ResponseUrl(id=uuid.uuid4().hex, user_id=user_id, channel_id=channel_id, created=time.monotonic())
        self._response_urls[entry.id] = entry
        return f"{self.base_url}/respond/{entry.id}"

    async def _respond(self, request: web.Request) -> web.Response:
        entry = self._response_urls.get(request.match_info["id"])
        if entry is None:
            return web.Response(status=404, text="invalid_token")
        if time.monotonic() - entry.created > RESPONSE_URL_LIFETIME:
            return web.Response(status=404, text="expired_url")
        if entry.uses >= RESPONSE_URL_USES:
            return web.Response(status=404, text="used_url")
        body = await request.json()
        if body.get("blocks") is not None:
            errors = validate_blocks(body["blocks"], "message")
            if errors:
                return web.Response(status=400, text="invalid_blocks")
        entry.uses += 1
        self.responses.append({"user_id": entry.user_id, "channel_id": entry.channel_id, **body})
        if body.get("response_type") == "in_channel":
            self.channels[entry.channel_id].messages.append(
                {"type": "message", "ts": self._next_ts(), "user": self.bot_user_id, "text": body.get("text", "")}
            )
        return web.Response(text="ok")

    # ----- delivering requests to the app (playing the users) -------------------------------------
    def _trigger(self) -> str:
        trigger_id = f"{next(self._ids)}.{uuid.uuid4().hex[:12]}"
        self._triggers[trigger_id] = (time.monotonic(), False)
        return trigger_id

    def escape_typed_text(self, text: str) -> str:
        """What Slack sends for typed text with should_escape on: &<> escaped, mentions wrapped."""
        escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

        def mention(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in ("here", "channel", "everyone"):
                return f"<!{name}>"
            user = next((u for u in self.users.values() if u["name"] == name), None)
            return f"<@{user['id']}|{name}>" if user else match.group(0)

        return re.sub(r"@([a-z0-9._-]+)", mention, escaped)

    async def slash_command(
        self, user_id: str, channel_id: str, text: str, *, command: str = "/incident", via: str = "http"
    ) -> Ack:
        """A user types `command text` in a channel."""
        return await self.deliver(
            self.slash_payload(user_id, channel_id, text, command=command), kind="slash_commands", via=via
        )

    def slash_payload(self, user_id: str, channel_id: str, text: str, *, command: str = "/incident") -> dict[str, str]:
        """The form fields Slack posts for a slash command (with a live response_url and trigger_id)."""
        return {
            "token": "deprecated-verification-token",
            "team_id": self.team_id,
            "team_domain": "tocsin-test",
            "channel_id": channel_id,
            "channel_name": self.channels[channel_id].name if channel_id in self.channels else "directmessage",
            "user_id": user_id,
            "user_name": self.users[user_id]["name"],
            "command": command,
            "text": self.escape_typed_text(text),
            "api_app_id": "A0TOCSIN",
            "is_enterprise_install": "false",
            "response_url": self._new_response_url(user_id, channel_id),
            "trigger_id": self._trigger(),
        }

    def view_submission(self, user_id: str, view_id: str, values: dict[str, Any]) -> dict[str, Any]:
        """The payload Slack sends when `user_id` submits an open modal with `values` by block_id."""
        view = self.views[view_id]
        state: dict[str, dict[str, Any]] = {}
        for block in view.get("blocks", []):
            if block.get("type") != "input" or block["block_id"] not in values:
                continue
            element = block["element"]
            state[block["block_id"]] = {element["action_id"]: _element_state(element, values[block["block_id"]])}
        return {
            "type": "view_submission",
            "team": {"id": self.team_id, "domain": "tocsin-test"},
            "user": {"id": user_id, "username": self.users[user_id]["name"], "team_id": self.team_id},
            "api_app_id": "A0TOCSIN",
            "token": "deprecated-verification-token",
            "trigger_id": self._trigger(),
            "view": {**view, "state": {"values": state}, "app_id": "A0TOCSIN", "bot_id": "B0TOCSIN"},
            "response_urls": [],
            "is_enterprise_install": False,
        }

    async def submit_view(self, user_id: str, view_id: str, values: dict[str, Any], *, via: str = "http") -> Ack:
        """A user fills in and submits a modal."""
        return await self.deliver(self.view_submission(user_id, view_id, values), kind="interactive", via=via)

    async def click(
        self,
        user_id: str,
        channel_id: str,
        message_ts: str,
        action_id: str,
        *,
        value: str | None = None,
        block_id: str | None = None,
        via: str = "http",
        message: dict[str, Any] | None = None,
    ) -> Ack:
        """A user clicks a button, picks `value` from a select, or toggles checkbox `value`, in a message.

        `message` is for one the channel does not keep: an ephemeral reply the user is looking at.
        """
        payload = self.click_payload(
            user_id, channel_id, message_ts, action_id, value=value, block_id=block_id, message=message
        )
        return await self.deliver(payload, kind="interactive", via=via)

    def click_payload(
        self,
        user_id: str,
        channel_id: str,
        message_ts: str,
        action_id: str,
        *,
        value: str | None = None,
        block_id: str | None = None,
        message: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The block_actions payload for a click on the message as it is now (send it with `deliver`)."""
        channel = self.channels[channel_id]
        if message is None:
            message = next(m for m in channel.messages if m["ts"] == message_ts)
        found = _find_element(message.get("blocks", []), action_id, block_id)
        if found is None:
            raise AssertionError(f"no element {action_id} in that message")
        found_block, element = found
        action: dict[str, Any] = {
            "action_id": action_id,
            "block_id": found_block,
            "type": element["type"],
            "action_ts": self._next_ts(),
        }
        if element["type"] == "button":
            action["value"] = element.get("value")
        elif element["type"] == "static_select":
            option = next((o for o in element["options"] if o["value"] == value), None)
            if option is None:
                raise AssertionError(f"{value!r} is not an option of {action_id}")
            action["selected_option"] = option
        elif element["type"] == "users_select":
            if value not in self.users:
                raise AssertionError(f"{value!r} is not a user")
            action["selected_user"] = value
        elif element["type"] == "checkboxes":
            option = next((o for o in element["options"] if o["value"] == value), None)
            if option is None:
                raise AssertionError(f"{value!r} is not an option of {action_id}")
            selected = [o for o in element.get("initial_options") or []]
            toggled = [o for o in selected if o["value"] != value]
            action["selected_options"] = toggled if len(toggled) < len(selected) else [*selected, option]
        return {
            "type": "block_actions",
            "user": {"id": user_id, "username": self.users[user_id]["name"], "team_id": self.team_id},
            "api_app_id": "A0TOCSIN",
            "token": "deprecated-verification-token",
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel_id},
            "trigger_id": self._trigger(),
            "team": {"id": self.team_id, "domain": "tocsin-test"},
            "channel": {"id": channel_id, "name": channel.name},
            "message": json.loads(json.dumps(message)),  # the message as this person sees it now
            "response_url": self._new_response_url(user_id, channel_id),
            "actions": [action],
        }

    async def deliver(self, payload: dict[str, Any], *, kind: str, via: str) -> Ack:
        """Send a request to the app over HTTP (signed) or Socket Mode, and wait for its ack."""
        if via == "socket":
            return await self._deliver_socket(payload, kind)
        if kind == "slash_commands":
            body = urlencode(payload)
        elif kind == "interactive":
            body = urlencode({"payload": json.dumps(payload)})
        else:
            body = json.dumps(payload)
        return await self.post_signed(body, content_type=_CONTENT_TYPES[kind])

    # ----- Events API ---------------------------------------------------------------------------
    def event_envelope(self, event: dict[str, Any]) -> dict[str, Any]:
        """An event_callback as Slack wraps it, with a fresh event_id."""
        return {
            "token": "deprecated-verification-token",
            "team_id": self.team_id,
            "api_app_id": "A0TOCSIN",
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
            "authorizations": [
                {"enterprise_id": None, "team_id": self.team_id, "user_id": self.bot_user_id, "is_bot": True}
            ],
            "is_ext_shared_channel": False,
        }

    async def deliver_event(self, envelope: dict[str, Any], *, via: str = "http", retry_num: int | None = None) -> Ack:
        """Deliver an event; a `retry_num` marks it as Slack's retry of the same event_id."""
        self.events_delivered.append(envelope)
        if via == "socket":
            extra = {"retry_attempt": retry_num or 0, "retry_reason": "timeout" if retry_num else ""}
            return await self._deliver_socket(envelope, "events_api", extra=extra)
        headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "timeout"} if retry_num else {}
        return await self.post_signed(json.dumps(envelope), content_type="application/json", headers=headers)

    def user_posts(
        self, user_id: str, channel_id: str, text: str, *, thread_ts: str | None = None, broadcast: bool = False
    ) -> str:
        """A person posts a message, or with `thread_ts` replies in that message's thread (`broadcast`: "also
        send to the channel"). Tocsin does not act on plain messages, so no event is sent."""
        channel = self.channels[channel_id]
        message = {"type": "message", "ts": self._next_ts(), "user": user_id, "text": self.escape_typed_text(text)}
        if thread_ts is not None:
            parent = self._message(channel_id, thread_ts)
            if _is_reply(parent):
                raise AssertionError("Slack's apps reply in a thread under its parent, never under a reply")
            self._into_thread(channel, message, thread_ts, broadcast=broadcast)
        channel.messages.append(message)
        return str(message["ts"])

    def message_shortcut_payload(self, user_id: str, channel_id: str, ts: str, callback_id: str) -> dict[str, Any]:
        """The message_action payload Slack sends when `user_id` picks a message shortcut on a message they
        can see (a fresh trigger_id and response_url; the message as it is now)."""
        channel = self.channels[channel_id]
        if channel.is_private and user_id not in channel.members:
            raise AssertionError(f"{user_id} cannot see a message in a private channel they are not in")
        message = self._message(channel_id, ts)
        if callback_id not in manifest_shortcuts():
            raise AssertionError(f"the manifest has no message shortcut {callback_id!r}")
        return {
            "type": "message_action",
            "token": "deprecated-verification-token",
            "action_ts": self._next_ts(),
            "team": {"id": self.team_id, "domain": "tocsin-test"},
            "user": {"id": user_id, "name": self.users[user_id]["name"], "team_id": self.team_id},
            "channel": {"id": channel.id, "name": channel.name},
            "is_enterprise_install": False,
            "callback_id": callback_id,
            "trigger_id": self._trigger(),
            "response_url": self._new_response_url(user_id, channel_id),
            "message_ts": ts,
            "message": self._as_seen(channel, message),
        }

    async def message_shortcut(
        self, user_id: str, channel_id: str, ts: str, callback_id: str, *, via: str = "http"
    ) -> Ack:
        """A person picks a message shortcut from a message's menu."""
        payload = self.message_shortcut_payload(user_id, channel_id, ts, callback_id)
        return await self.deliver(payload, kind="interactive", via=via)

    def _message(self, channel_id: str, ts: str) -> dict[str, Any]:
        return next(m for m in self.channels[channel_id].messages if m["ts"] == ts)

    def pin_event(self, user_id: str, channel_id: str, ts: str, *, removed: bool = False) -> dict[str, Any]:
        channel = self.channels[channel_id]
        (channel.pins.discard if removed else channel.pins.add)(ts)
        stored = self._message(channel_id, ts)
        message = {**self._as_seen(channel, stored), "permalink": _permalink(channel_id, ts, stored.get("thread_ts"))}
        item = {"type": "message", "created": int(time.time()), "created_by": user_id, "channel": channel_id}
        return self.event_envelope(
            {
                "type": "pin_removed" if removed else "pin_added",
                "user": user_id,
                "channel_id": channel_id,
                "item": {**item, "message": message},
                "event_ts": self._next_ts(),
                **({"has_pins": bool(channel.pins)} if removed else {}),
            }
        )

    def reaction_event(
        self, user_id: str, channel_id: str, ts: str, reaction: str, *, removed: bool = False
    ) -> dict[str, Any]:
        message = self._message(channel_id, ts)
        return self.event_envelope(
            {
                "type": "reaction_removed" if removed else "reaction_added",
                "user": user_id,
                "reaction": reaction,
                "item_user": message.get("user"),
                "item": {"type": "message", "channel": channel_id, "ts": ts},
                "event_ts": self._next_ts(),
            }
        )

    def edit_event(self, channel_id: str, ts: str, text: str) -> dict[str, Any]:
        """A person edits a message; a reply's event carries its thread_ts in both versions."""
        channel = self.channels[channel_id]
        message = self._message(channel_id, ts)
        previous = self._as_seen(channel, message)
        message["text"] = self.escape_typed_text(text)
        message["edited"] = {"user": message.get("user"), "ts": self._next_ts()}
        return self.event_envelope(
            {
                "type": "message",
                "subtype": "message_changed",
                "channel": channel_id,
                "hidden": True,
                "message": self._as_seen(channel, message),
                "previous_message": previous,
                "event_ts": self._next_ts(),
                "ts": self._next_ts(),
            }
        )

    def delete_event(self, channel_id: str, ts: str) -> dict[str, Any]:
        """A person deletes a message (a reply's previous_message carries its thread_ts)."""
        channel = self.channels[channel_id]
        stored = self._message(channel_id, ts)
        previous = self._as_seen(channel, stored)
        channel.messages.remove(stored)
        channel.pins.discard(ts)
        return self.event_envelope(
            {
                "type": "message",
                "subtype": "message_deleted",
                "channel": channel_id,
                "hidden": True,
                "deleted_ts": ts,
                "previous_message": previous,
                "event_ts": self._next_ts(),
                "ts": self._next_ts(),
            }
        )

    def member_joined_event(self, user_id: str, channel_id: str, *, inviter: str | None = None) -> dict[str, Any]:
        """A person joins a channel (added to its members), as Slack tells the app."""
        channel = self.channels[channel_id]
        channel.members.add(user_id)
        event: dict[str, Any] = {
            "type": "member_joined_channel",
            "user": user_id,
            "channel": channel_id,
            "channel_type": "G" if channel.is_private else "C",
            "team": self.team_id,
            "event_ts": self._next_ts(),
        }
        if inviter is not None:
            event["inviter"] = inviter
        return self.event_envelope(event)

    def home_opened_event(self, user_id: str) -> dict[str, Any]:
        return self.event_envelope(
            {
                "type": "app_home_opened",
                "user": user_id,
                "channel": f"D{user_id}",
                "tab": "home",
                "event_ts": self._next_ts(),
            }
        )

    def sign(self, body: str, timestamp: int | None = None) -> dict[str, str]:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        base = f"v0:{stamp}:{body}".encode()
        signature = "v0=" + hmac.new(self.signing_secret.encode(), base, hashlib.sha256).hexdigest()
        return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature}

    async def post_signed(
        self, body: str, *, content_type: str, headers: dict[str, str] | None = None, timestamp: int | None = None
    ) -> Ack:
        assert self.app_url, "set double.app_url to the app's /slack/events URL"
        all_headers = {"Content-Type": content_type, **self.sign(body, timestamp), **(headers or {})}
        if self._client is None:
            self._client = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        started = time.monotonic()
        async with self._client.post(self.app_url, data=body.encode(), headers=all_headers) as response:
            raw = await response.text()
        seconds = time.monotonic() - started
        try:
            parsed: Any = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw
        return Ack(status=response.status, body=parsed, seconds=seconds)

    # ----- Socket Mode --------------------------------------------------------------------------
    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json(
            {"type": "hello", "num_connections": len(self._sockets), "connection_info": {"app_id": "A0TOCSIN"}}
        )
        try:
            async for message in ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    continue
                data = json.loads(message.data)
                future = self._socket_acks.get(data.get("envelope_id", ""))
                if future is not None and not future.done():
                    future.set_result(data)
        finally:
            self._sockets.remove(ws)
        return ws

    async def wait_for_socket(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not self._sockets:
            if time.monotonic() > deadline:
                raise TimeoutError("the app never opened a Socket Mode connection")
            await asyncio.sleep(0.01)

    async def _deliver_socket(self, payload: dict[str, Any], kind: str, *, extra: dict[str, Any] | None = None) -> Ack:
        await self.wait_for_socket()
        envelope_id = str(uuid.uuid4())
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._socket_acks[envelope_id] = future
        started = time.monotonic()
        await self._sockets[0].send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind != "events_api",
                **(extra or {}),
            }
        )
        try:
            ack = await asyncio.wait_for(future, ACK_DEADLINE)
        except TimeoutError:
            return Ack(status=408, body=None, seconds=time.monotonic() - started)
        finally:
            self._socket_acks.pop(envelope_id, None)
        return Ack(status=200, body=ack.get("payload"), seconds=time.monotonic() - started)

    # ----- round trips --------------------------------------------------------------------------
    def sequential_round_trips(self, calls: list[Call]) -> int:
        """The longest chain of calls each starting after the previous ended (the critical path)."""
        ordered = sorted(calls, key=lambda c: c.started)
        depth: list[int] = []
        for i, call in enumerate(ordered):
            before = [depth[j] for j in range(i) if ordered[j].ended <= call.started]
            depth.append(1 + max(before, default=0))
        return max(depth, default=0)


_CONTENT_TYPES = {
    "slash_commands": "application/x-www-form-urlencoded",
    "interactive": "application/x-www-form-urlencoded",
    "events_api": "application/json",
}


def manifest_shortcuts(path: Path = MANIFEST) -> set[str]:
    """The callback_ids of the manifest's message shortcuts."""
    manifest = yaml.safe_load(path.read_text())
    return {s["callback_id"] for s in manifest["features"].get("shortcuts") or [] if s.get("type") == "message"}


def manifest_bot_scopes(path: Path = MANIFEST) -> set[str]:
    """The bot scopes manifest.yml asks for: the double grants exactly these."""
    manifest = yaml.safe_load(path.read_text())
    return set(manifest["oauth_config"]["scopes"]["bot"])


def _jwt(claims: dict[str, Any], secret: str) -> str:
    """A JWT signed HS256 with `secret` (OpenID Connect lets a confidential client's secret sign it)."""

    def part(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    header = json.dumps({"alg": "HS256", "typ": "JWT"}).encode()
    signed = f"{part(header)}.{part(json.dumps(claims).encode())}"
    return f"{signed}.{part(hmac.new(secret.encode(), signed.encode(), hashlib.sha256).digest())}"


def _truthy(value: Any) -> bool:
    return value in (True, "true", "1", 1)


def _token(request: web.Request, args: dict[str, Any]) -> str | None:
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        return auth.removeprefix("Bearer ")
    token = args.get("token")
    return str(token) if token else None


async def _read_args(request: web.Request) -> dict[str, Any]:
    args: dict[str, Any] = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            args.update(await request.json())
        else:
            args.update(dict(await request.post()))
    for key in ("blocks", "view", "attachments"):
        if isinstance(args.get(key), str) and args[key]:
            with contextlib.suppress(ValueError):
                args[key] = json.loads(args[key])
    if isinstance(args.get("users"), list):
        args["users"] = ",".join(args["users"])
    return args


def _json_arg(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise SlackError("invalid_arguments") from None
    return value


def _document_markdown(content: Any) -> str:
    content = _json_arg(content)
    if (
        not isinstance(content, dict)
        or content.get("type") != "markdown"
        or not isinstance(content.get("markdown"), str)
    ):
        raise SlackError("invalid_arguments")
    if len(content["markdown"]) > MAX_CANVAS_MARKDOWN:
        raise SlackError("canvas_too_large")
    markdown: str = content["markdown"]
    return markdown


def _channel_json(channel: Channel, bot_user_id: str) -> dict[str, Any]:
    properties = {"canvas": {"file_id": channel.canvas_id, "is_empty": False}} if channel.canvas_id else {}
    return {
        "properties": properties,
        "id": channel.id,
        "name": channel.name,
        "is_channel": not channel.is_private and not channel.is_im,
        "is_private": channel.is_private,
        "is_member": bot_user_id in channel.members,
        "topic": {"value": channel.topic},
        "purpose": {"value": channel.purpose},
        "num_members": len(channel.members),
        "creator": channel.creator,
    }


def _element_state(element: dict[str, Any], value: Any) -> dict[str, Any]:
    kind = element["type"]
    if kind == "plain_text_input":
        return {"type": kind, "value": value}
    if kind in ("static_select", "radio_buttons"):
        option = next((o for o in element["options"] if o["value"] == value), None)
        if value is not None and option is None:
            raise AssertionError(f"{value!r} is not an option of {element['action_id']}")
        return {"type": kind, "selected_option": option}
    if kind == "datetimepicker":
        return {"type": kind, "selected_date_time": value}
    if kind == "datepicker":
        return {"type": kind, "selected_date": value}
    if kind == "users_select":
        return {"type": kind, "selected_user": value}
    if kind == "checkboxes":  # `value`: the ticked options' values (one value, or a list of them)
        wanted = [value] if isinstance(value, str) else list(value or [])
        ticked = [o for o in element["options"] if o["value"] in wanted]
        if len(ticked) != len(wanted):
            raise AssertionError(f"{value!r} are not all options of {element['action_id']}")
        return {"type": kind, "selected_options": ticked}
    raise AssertionError(f"the double cannot fill a {kind}")


def _find_element(
    blocks: list[dict[str, Any]], action_id: str, block_id: str | None = None
) -> tuple[str, dict[str, Any]] | None:
    for index, block in enumerate(blocks):
        if block_id is not None and block.get("block_id") != block_id:
            continue
        for element in block.get("elements", []) + ([block["accessory"]] if "accessory" in block else []):
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return block.get("block_id", f"auto{index}"), element
    return None


def _permalink(channel_id: str, ts: str, thread_ts: str | None = None) -> str:
    """chat.getPermalink's link; a reply's opens its thread (Slack adds thread_ts and cid)."""
    link = f"https://tocsin-test.slack.com/archives/{channel_id}/p{ts.replace('.', '')}"
    if thread_ts is not None and thread_ts != ts:
        link += "?" + urlencode({"thread_ts": thread_ts, "cid": channel_id})
    return link


def _is_reply(message: dict[str, Any]) -> bool:
    """Whether a message is a reply in a thread (a thread's parent has thread_ts too: its own ts)."""
    return message.get("thread_ts") not in (None, message["ts"])


def _top_level(message: dict[str, Any]) -> bool:
    """Whether conversations.history shows a message: not a reply, or a reply also sent to the channel."""
    return not _is_reply(message) or message.get("subtype") == "thread_broadcast"


def _time_range(args: dict[str, Any]) -> Callable[[str], bool]:
    """Whether a ts is within `oldest` and `latest` (default: the beginning and now), bounds excluded
    unless `inclusive` (Slack's default is false)."""
    oldest = _ts_bound(args.get("oldest"), "invalid_ts_oldest", Decimal(0))
    latest = _ts_bound(args.get("latest"), "invalid_ts_latest", Decimal("Infinity"))
    if _truthy(args.get("inclusive")):
        return lambda ts: oldest <= Decimal(ts) <= latest
    return lambda ts: oldest < Decimal(ts) < latest


def _ts_bound(value: Any, error: str, default: Decimal) -> Decimal:
    if value in (None, ""):
        return default
    try:
        bound = Decimal(str(value))
    except InvalidOperation:
        raise SlackError(error) from None
    if not bound.is_finite():
        raise SlackError(error)
    return bound


def _page(messages: list[dict[str, Any]], args: dict[str, Any], *, default_limit: int) -> dict[str, Any]:
    """One page of `messages` (`limit` of them from `cursor`), with `has_more` and the next cursor."""
    limit = int(args.get("limit") or 0) or default_limit
    start = 0
    if args.get("cursor"):
        try:
            next_ts = base64.b64decode(str(args["cursor"]), validate=True).decode().removeprefix("next_ts:")
            start = [m["ts"] for m in messages].index(next_ts)
        except (ValueError, binascii.Error):
            raise SlackError("invalid_cursor") from None
    page: dict[str, Any] = {"messages": messages[start : start + limit], "has_more": start + limit < len(messages)}
    if page["has_more"]:
        cursor = base64.b64encode(f"next_ts:{messages[start + limit]['ts']}".encode()).decode()
        page["response_metadata"] = {"next_cursor": cursor}
    return page
