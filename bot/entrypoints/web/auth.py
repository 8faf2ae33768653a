"""Signing in and out, and the gate in front of every signed-in page.

`GET /login` sends the browser to Slack's authorize URL with a fresh state and nonce (kept in a
short-lived cookie, with the page to return to); `GET /login/callback` accepts only that state, completes
the sign-in with Slack and admits only members of the bot's own workspace; `POST /logout` (with the
session's CSRF token) ends the session. A page behind the gate without a session is a redirect to
`/login?next=<the page>`."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import quote

from aiohttp import web

from bot.domain.errors import NotFoundError
from bot.entrypoints.web.config import WebSettings
from bot.entrypoints.web.next_path import safe_next
from bot.entrypoints.web.queries import BadRequest
from bot.entrypoints.web.render import Renderer
from bot.entrypoints.web.sessions import Cookies, Session, same_state
from bot.entrypoints.web.slack_sign_in import SignInFailed, SlackSignIn
from bot.usecases.ports import Clock

log = logging.getLogger(__name__)

Page = Callable[[web.Request, Session], Awaitable[web.StreamResponse]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Gate:
    """Sign-in, sign-out and the signed-in check; `workspace()` is the bot's own team ID (None until
    Tocsin has reached Slack)."""

    settings: WebSettings
    sign_in: SlackSignIn
    render: Renderer
    clock: Clock
    workspace: Callable[[], str | None]

    def __post_init__(self) -> None:
        """The cookies exist only once SESSION_SECRET is set."""
        secret = self.settings.session_secret
        self.cookies = Cookies(secret, secure=self.settings.secure, clock=self.clock) if secret else None

    def session(self, request: web.Request) -> Session | None:
        """The request's session, when it is valid and of this workspace."""
        session = self.cookies.session(request) if self.cookies else None
        if session is None or session.team_id != self.workspace():
            return None
        return session

    def signed_in(self, page: Page) -> Handler:
        """`page` for people signed in (others are sent to sign in first), its errors answered as pages."""

        async def serve(request: web.Request) -> web.StreamResponse:
            session = self.session(request)
            if session is None:
                return redirect(f"/login?next={quote(safe_next(request.raw_path), safe='')}")
            try:
                return await page(request, session)
            except NotFoundError as exc:  # an unknown incident and a hidden private one read the same
                return self.problem(404, "Not found", str(exc), session=session)
            except BadRequest as exc:
                return self.problem(400, "That page cannot be shown", str(exc), session=session)

        return serve

    def problem(self, status: int, title: str, detail: str, *, session: Session | None = None) -> web.Response:
        """An error page."""
        return self.render.page("problem.html", status=status, session=session, title=title, detail=detail)

    async def login(self, request: web.Request) -> web.StreamResponse:
        """Off to Slack to sign in (or straight to `next` for someone already signed in)."""
        if self.settings.missing or self.cookies is None:
            detail = "Sign in with Slack is not set up here yet: set " + ", ".join(self.settings.missing) + "."
            return self.problem(503, "Signing in is not set up", detail)
        next_path = safe_next(request.query.get("next"))
        if self.session(request) is not None:
            return redirect(next_path)
        attempt = self.cookies.new_sign_in(next_path=next_path)
        response = redirect(
            self.settings.authorize_url(state=attempt.state, nonce=attempt.nonce, team_id=self.workspace())
        )
        self.cookies.keep_sign_in(response, attempt)
        return response

    async def callback(self, request: web.Request) -> web.StreamResponse:
        """Slack sent the browser back: the state must be this browser's, the person of this workspace."""
        response = await self._complete(request)
        if self.cookies is not None:
            self.cookies.end_sign_in(response)  # a state works once, whatever came of it
        return response

    async def _complete(self, request: web.Request) -> web.StreamResponse:
        if self.cookies is None:
            return self.problem(503, "Signing in is not set up", "SESSION_SECRET is not set.")
        attempt = self.cookies.sign_in(request)
        again = "Sign in again from the start."
        if attempt is None:
            return self.problem(
                400, "Sign-in not recognised", f"This sign-in was not started here, or took too long. {again}"
            )
        if not same_state(attempt.state, request.query.get("state")):
            log.warning("web sign-in refused: the state Slack sent back is not this browser's")
            return self.problem(
                400, "Sign-in not recognised", f"This sign-in does not match the one started here. {again}"
            )
        if "error" in request.query:
            return self.problem(400, "Sign-in cancelled", f"Slack did not sign you in ({request.query['error'][:60]}).")
        try:
            user = await self.sign_in.complete(request.query.get("code", ""), nonce=attempt.nonce, now=self.clock())
        except SignInFailed as exc:
            log.warning("web sign-in failed: %s", exc.message)
            return self.problem(exc.status, "Sign-in failed", exc.message)
        team_id = self.workspace()
        if team_id is None:
            return self.problem(503, "Slack not reached yet", "Tocsin has not reached Slack yet. Try again shortly.")
        if user.team_id != team_id:
            log.warning("web sign-in refused: %s is a member of another workspace", user.user_id)
            detail = "Only members of the workspace Tocsin serves can sign in; you signed in to another one."
            return self.problem(403, "Another workspace", detail)
        response = redirect(attempt.next, status=303)
        self.cookies.start_session(response, user_id=user.user_id, team_id=user.team_id, name=user.name)
        log.info("web: %s signed in", user.user_id)
        return response

    async def logout(self, request: web.Request) -> web.StreamResponse:
        """Sign out: only with this session's CSRF token, from this site."""
        session = self.session(request)
        if session is not None:
            form = await request.post()
            token = form.get("csrf")
            origin = request.headers.get("Origin")
            if not session.accepts(token if isinstance(token, str) else None) or (
                origin is not None and origin.lower() != self.settings.origin
            ):
                log.warning("web: a sign-out without this session's CSRF token was refused")
                return self.problem(403, "Refused", "That form was not sent from this site.", session=session)
        response = self.render.page("signed_out.html", session=None)
        if self.cookies is not None:
            self.cookies.end_session(response)
        return response


def redirect(location: str, *, status: int = 302) -> web.Response:
    """A redirect that cookies can be set on."""
    return web.Response(status=status, headers={"Location": location})
