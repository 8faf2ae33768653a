"""The web session and the sign-in in progress, each kept in a cookie that is encrypted and authenticated
(Fernet, with a key derived from SESSION_SECRET for that cookie alone), HttpOnly, SameSite=Lax, Secure
(and `__Host-` named) when Tocsin is served over HTTPS, and expiring: the session after 12 hours, a
sign-in after 10 minutes. Nothing is kept on the server, so every replica reads the same cookies."""

from __future__ import annotations

import base64
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SESSION_LIFETIME = timedelta(hours=12)
LOGIN_LIFETIME = timedelta(minutes=10)  # from leaving for Slack to coming back
MAX_COOKIE = 4096  # browsers keep no more; anything longer is not one of ours


@dataclass(frozen=True, slots=True)
class Session:
    """Who is signed in (their Slack user and workspace, and name as Slack gave it), the token every form
    they post must carry, and when the session ends."""

    user_id: str
    team_id: str
    name: str
    csrf: str
    expires_at: datetime

    def accepts(self, token: str | None) -> bool:
        """Whether a form's CSRF token is this session's."""
        return token is not None and hmac.compare_digest(token.encode("utf-8", "replace"), self.csrf.encode())


@dataclass(frozen=True, slots=True)
class SignInAttempt:
    """A sign-in under way: the state and nonce sent to Slack, and the page to return to."""

    state: str
    nonce: str
    next: str
    expires_at: datetime


class _Sealed:
    """JSON sealed with Fernet under a key of its own (HKDF of the secret, named by `purpose`)."""

    def __init__(self, secret: str, purpose: str, lifetime: timedelta) -> None:
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=f"tocsin web {purpose}".encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(hkdf.derive(secret.encode())))
        self._lifetime = lifetime

    def seal(self, fields: dict[str, Any], now: datetime) -> str:
        return self._fernet.encrypt_at_time(json.dumps(fields).encode(), int(now.timestamp())).decode()

    def open(self, token: str | None, now: datetime) -> dict[str, Any] | None:
        """The fields, or None for a cookie that is absent, forged, altered or too old."""
        if not token or len(token) > MAX_COOKIE:
            return None
        try:
            raw = self._fernet.decrypt_at_time(token, int(self._lifetime.total_seconds()), int(now.timestamp()))
            fields = json.loads(raw)
        except (InvalidToken, ValueError):
            return None
        return fields if isinstance(fields, dict) else None


class Cookies:
    """Reads and writes the session and sign-in cookies."""

    def __init__(self, secret: str, *, secure: bool, clock: Callable[[], datetime]) -> None:
        """Cookies sealed with keys derived from `secret`; `secure`: sent over HTTPS only."""
        self._sessions = _Sealed(secret, "session", SESSION_LIFETIME)
        self._sign_ins = _Sealed(secret, "sign-in", LOGIN_LIFETIME)
        self._secure = secure
        self._clock = clock
        # `__Host-`: the browser keeps such a cookie only if Secure, for this host alone, at path /.
        self.session_name = "__Host-tocsin_session" if secure else "tocsin_session"
        self.sign_in_name = "__Host-tocsin_sign_in" if secure else "tocsin_sign_in"

    def start_session(self, response: web.StreamResponse, *, user_id: str, team_id: str, name: str) -> Session:
        """Sign someone in: a new session (with a new CSRF token) in its cookie."""
        now = self._clock()
        session = Session(user_id, team_id, name, secrets.token_urlsafe(32), now + SESSION_LIFETIME)
        fields = {"u": user_id, "t": team_id, "n": name, "c": session.csrf, "x": session.expires_at.timestamp()}
        self._set(response, self.session_name, self._sessions.seal(fields, now), SESSION_LIFETIME)
        return session

    def session(self, request: web.Request) -> Session | None:
        """The session the request's cookie holds, if any and still valid."""
        now = self._clock()
        fields = self._sessions.open(request.cookies.get(self.session_name), now)
        if fields is None:
            return None
        try:
            session = Session(
                str(fields["u"]),
                str(fields["t"]),
                str(fields["n"]),
                str(fields["c"]),
                datetime.fromtimestamp(float(fields["x"]), UTC),
            )
        except (KeyError, TypeError, ValueError, OverflowError):
            return None
        return session if session.expires_at > now else None

    def end_session(self, response: web.StreamResponse) -> None:
        """Sign out: the session cookie is deleted."""
        self._delete(response, self.session_name)

    def new_sign_in(self, *, next_path: str) -> SignInAttempt:
        """A new sign-in: a fresh state and nonce, and the page to return to."""
        expires = self._clock() + LOGIN_LIFETIME
        return SignInAttempt(secrets.token_urlsafe(32), secrets.token_urlsafe(32), next_path, expires)

    def keep_sign_in(self, response: web.StreamResponse, attempt: SignInAttempt) -> None:
        """Remember a sign-in in its cookie until Slack sends the browser back."""
        fields = {"s": attempt.state, "n": attempt.nonce, "p": attempt.next, "x": attempt.expires_at.timestamp()}
        self._set(response, self.sign_in_name, self._sign_ins.seal(fields, self._clock()), LOGIN_LIFETIME)

    def sign_in(self, request: web.Request) -> SignInAttempt | None:
        """The sign-in this browser started, if any and not expired."""
        now = self._clock()
        fields = self._sign_ins.open(request.cookies.get(self.sign_in_name), now)
        if fields is None:
            return None
        try:
            attempt = SignInAttempt(
                str(fields["s"]), str(fields["n"]), str(fields["p"]), datetime.fromtimestamp(float(fields["x"]), UTC)
            )
        except (KeyError, TypeError, ValueError, OverflowError):
            return None
        return attempt if attempt.expires_at > now else None

    def end_sign_in(self, response: web.StreamResponse) -> None:
        """The sign-in is over (done or refused): its state can never be used again by this browser."""
        self._delete(response, self.sign_in_name)

    def _set(self, response: web.StreamResponse, name: str, value: str, lifetime: timedelta) -> None:
        response.set_cookie(
            name,
            value,
            max_age=int(lifetime.total_seconds()),
            path="/",
            secure=self._secure,
            httponly=True,
            samesite="Lax",
        )

    def _delete(self, response: web.StreamResponse, name: str) -> None:
        response.set_cookie(
            name,
            "",
            max_age=0,
            expires="Thu, 01 Jan 1970 00:00:00 GMT",
            path="/",
            secure=self._secure,
            httponly=True,
            samesite="Lax",
        )


def same_state(expected: str, given: str | None) -> bool:
    """Whether the state Slack sent back is the one this browser's sign-in sent (compared in constant time)."""
    return given is not None and hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))
