"""Sign in with Slack, the server's side: the code Slack sent the browser back with is exchanged for
tokens (Web API `openid.connect.token`, authenticated with the app's client id and secret), the ID token's
audience, nonce and expiry are checked, and the user and workspace are read with `openid.connect.userInfo`.

The ID token's signature is not checked: it came straight from Slack's token endpoint over TLS, with the
client secret, which OpenID Connect Core (3.1.3.7) accepts in place of the signature."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.entrypoints.web.config import WebSettings

log = logging.getLogger(__name__)

USER_ID = "https://slack.com/user_id"
TEAM_ID = "https://slack.com/team_id"
MAX_CODE = 500
# What Slack says when Tocsin's own settings are wrong, and the setting to look at: no retry helps.
MISCONFIGURED = {
    "invalid_client_id": "SLACK_CLIENT_ID",
    "bad_client_secret": "SLACK_CLIENT_SECRET",
    "bad_redirect_uri": "PUBLIC_URL (and the Slack app's redirect URL, {PUBLIC_URL}/login/callback)",
}


class SignInFailed(Exception):
    """The sign-in cannot be completed; `message` says why in words for the person, `status` the answer."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True, slots=True)
class SlackUser:
    """Who Slack says signed in: their user ID, their workspace, and their name."""

    user_id: str
    team_id: str
    name: str


@dataclass
class SlackSignIn:
    """Completes a sign-in with Slack's Web API (`client`: any AsyncWebClient under SLACK_API_URL; the
    calls carry their own credentials, never its bot token)."""

    settings: WebSettings
    client: AsyncWebClient

    async def complete(self, code: str, *, nonce: str, now: datetime) -> SlackUser:
        """The user a sign-in's `code` belongs to; SignInFailed when Slack refuses it or its tokens do not
        belong to this sign-in."""
        if not code or len(code) > MAX_CODE:
            raise SignInFailed("Slack sent no usable sign-in code back. Please sign in again.")
        tokens = await self._call(
            self.client.openid_connect_token(
                client_id=self.settings.client_id or "",
                client_secret=self.settings.client_secret or "",
                code=code,
                redirect_uri=self.settings.redirect_uri,
                grant_type="authorization_code",
            )
        )
        claims = id_token_claims(str(tokens.get("id_token") or ""))
        if claims.get("aud") != self.settings.client_id:
            raise SignInFailed("Slack's answer was meant for another app. Please sign in again.")
        if not isinstance(claims.get("nonce"), str) or not hmac.compare_digest(claims["nonce"], nonce):
            raise SignInFailed("Slack's answer belongs to another sign-in. Please sign in again.")
        expiry = claims.get("exp")
        if not isinstance(expiry, int | float) or expiry <= now.timestamp():
            raise SignInFailed("Slack's answer has expired. Please sign in again.")
        info = await self._call(self.client.openid_connect_userInfo(token=str(tokens.get("access_token") or "")))
        user_id, team_id = info.get(USER_ID), info.get(TEAM_ID)
        if not isinstance(user_id, str) or not isinstance(team_id, str) or not user_id or not team_id:
            raise SignInFailed("Slack did not say who you are. Please sign in again.")
        if claims.get(USER_ID, user_id) != user_id or claims.get(TEAM_ID, team_id) != team_id:
            raise SignInFailed("Slack's answers disagree about who you are. Please sign in again.")
        name = info.get("name") or info.get("given_name") or user_id
        return SlackUser(user_id, team_id, str(name)[:200])

    async def _call(self, call: Any) -> dict[str, Any]:
        try:
            response = await call
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "no reason given") if exc.response is not None else "no reason"
            if error in MISCONFIGURED:
                log.error("Sign in with Slack: Slack answered %s; check %s", error, MISCONFIGURED[error])
                broken = f"Tocsin's Sign in with Slack settings are wrong ({error}); an administrator must fix them."
                raise SignInFailed(broken, status=502) from None
            raise SignInFailed(f"Slack refused the sign-in ({error}). Please sign in again.") from None
        except (aiohttp.ClientError, TimeoutError, OSError):
            unreachable = "Slack could not be reached to finish signing in. Try again shortly."
            raise SignInFailed(unreachable, status=503) from None
        return dict(response.data) if isinstance(response.data, dict) else {}


def id_token_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT (its middle part), unverified; SignInFailed when it is not a JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        raise SignInFailed("Slack's answer held no ID token. Please sign in again.")
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError):
        raise SignInFailed("Slack's ID token could not be read. Please sign in again.") from None
    if not isinstance(claims, dict):
        raise SignInFailed("Slack's ID token could not be read. Please sign in again.")
    return claims
