"""The web pages' routes, and what they are built from (`WebPages`, which the composition root makes from
the process's parts). Every page but signing in and out is behind the sign-in gate."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.policy import Policy
from bot.entrypoints.deps import Deps
from bot.entrypoints.web.auth import Gate
from bot.entrypoints.web.config import CALLBACK_PATH, WebSettings
from bot.entrypoints.web.incident_pages import IncidentPages
from bot.entrypoints.web.people import People
from bot.entrypoints.web.reads import WebReads
from bot.entrypoints.web.render import STATIC, Renderer
from bot.entrypoints.web.report_pages import ReportPages
from bot.entrypoints.web.slack_sign_in import SlackSignIn
from bot.usecases.ports import Clock

_COLOUR = re.compile(r"^#[0-9A-Fa-f]{3,8}$")  # only a colour may reach the style sheet


@dataclass(frozen=True)
class WebPages:
    """What the pages need: their settings, the reads, names, the policy, a Web API client (Sign in with
    Slack's calls carry their own credentials; names are asked with its bot token), the clock, and the
    bot's own workspace (`workspace()`: its team ID, None until Slack has answered auth.test)."""

    settings: WebSettings
    reads: WebReads
    people: People
    policy: Policy
    client: AsyncWebClient
    clock: Clock
    workspace: Callable[[], str | None]

    @classmethod
    def of(cls, deps: Deps, settings: WebSettings, *, workspace: Callable[[], str | None]) -> WebPages:
        """The pages over the process's use cases and Slack client."""
        reads = WebReads(deps.api.reads, deps.visibility, deps.runbooks.library, deps.api.reads.uow)
        client = deps.slack.client
        return cls(settings, reads, People(client), deps.policy, client, deps.clock, workspace)


def add_web_routes(app: web.Application, pages: WebPages) -> None:
    """Serve the signed-in pages, signing in and out, and the pages' style sheets under /static/."""
    render = Renderer(pages.policy)
    gate = Gate(pages.settings, SlackSignIn(pages.settings, pages.client), render, pages.clock, pages.workspace)
    incidents = IncidentPages(pages.reads, pages.people, render, pages.settings, pages.policy, pages.clock)
    reports = ReportPages(pages.reads, pages.people, render, pages.policy, pages.clock)
    severities = severity_css(pages.policy)

    async def severity_styles(_request: web.Request) -> web.Response:
        return web.Response(text=severities, content_type="text/css", headers={"Cache-Control": "max-age=300"})

    router = app.router
    router.add_get("/", gate.signed_in(incidents.incidents))
    router.add_get("/incidents/{ref}", gate.signed_in(incidents.incident))
    router.add_get("/incidents/{ref}/postmortem", gate.signed_in(incidents.postmortem))
    router.add_get("/follow-ups", gate.signed_in(reports.follow_ups))
    router.add_get("/stats", gate.signed_in(reports.stats))
    router.add_get("/oncall", gate.signed_in(reports.on_call))
    router.add_get("/login", gate.login)
    router.add_get(CALLBACK_PATH, gate.callback)
    router.add_post("/logout", gate.logout)
    router.add_get("/static/severities.css", severity_styles)  # before /static/: the policy's colours
    router.add_static("/static/", STATIC, append_version=False)


def severity_css(policy: Policy) -> str:
    """The policy's severity colours as CSS classes (`sev-1` the most severe), for colours that are colours."""
    rules = [
        f".sev-{rank} {{ background: {severity.colour}; }}"
        for rank, severity in enumerate(policy.severities, start=1)
        if severity.colour and _COLOUR.match(severity.colour)
    ]
    return "\n".join(rules) + "\n"
