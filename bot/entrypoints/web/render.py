"""Pages from Jinja2 templates (bot/entrypoints/web/templates), autoescaped: every piece of user text is
HTML-escaped by construction, and nothing in a template is marked safe but the postmortem's HTML, which
markdown-it renders with raw HTML off. Times are shown in the policy's time zone, always with the date."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup

from bot.domain.incidents import format_age
from bot.domain.policy import Policy

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"
HTML = "text/html"
# Slack's references inside stored text: `<@U123>` or `<@U123|name>`, `<#C123|name>`, `<!here>`.
_SLACK_REF = re.compile(r"<(@[UW][A-Z0-9]{1,31}|#[CG][A-Z0-9]{1,31}|![a-z]+(?:\^[A-Z0-9]+)?)(?:\|([^<>]{0,200}))?>")


class Renderer:
    """Renders the pages' templates for one policy (its time zone and severities)."""

    def __init__(self, policy: Policy) -> None:
        """An environment over TEMPLATES with the pages' filters."""
        self._zone = ZoneInfo(policy.timezone)
        self._severities = [s.name for s in policy.severities]
        self._markdown = MarkdownIt("commonmark", {"html": False}).enable("table")
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(["html"], default_for_string=True, default=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(when=self.when, day=self.day, iso=_iso, duration=_duration)
        self.env.globals.update(severity_class=self.severity_class, slack_parts=slack_parts, zone=policy.timezone)

    def page(self, template: str, *, status: int = 200, **context: Any) -> web.Response:
        """The template rendered as an HTML response."""
        body = self.env.get_template(template).render(**context)
        response = web.Response(text=body, status=status, content_type=HTML, charset="utf-8")
        response.headers["Cache-Control"] = "no-store"  # signed-in pages are nobody else's
        return response

    def markdown(self, text: str) -> Markup:
        """Markdown as HTML, raw HTML in it shown as text (CommonMark and its tables, with `html` off;
        markdown-it also refuses javascript: and data: links)."""
        return Markup(self._markdown.render(text))  # noqa: S704 - markdown-it escapes everything it does not render

    def when(self, moment: datetime | None) -> str:
        """A moment in the policy's time zone, e.g. `2026-11-23 10:04 UTC`."""
        if moment is None:
            return "—"
        local = moment.astimezone(self._zone)
        return f"{local:%Y-%m-%d %H:%M} {local.tzname() or ''}".strip()

    def day(self, value: date | datetime | None) -> str:
        """A day, e.g. `2026-11-23`."""
        if value is None:
            return "—"
        return (value.astimezone(self._zone).date() if isinstance(value, datetime) else value).isoformat()

    def severity_class(self, name: str) -> str:
        """The CSS class that colours a severity: `sev-1` for the most severe (policy order)."""
        upper = [s.upper() for s in self._severities]
        rank = upper.index(name.upper()) + 1 if name.upper() in upper else 0
        return f"sev sev-{rank}"


def slack_parts(text: str) -> list[tuple[str, str]]:
    """Text as pieces to show: ("text", words), ("user", a user ID mentioned) or ("ref", how a channel or
    `@here` reads). Nothing in it becomes markup: the template escapes every piece."""
    parts: list[tuple[str, str]] = []
    last = 0
    for match in _SLACK_REF.finditer(text):
        if match.start() > last:
            parts.append(("text", text[last : match.start()]))
        target, label = match.group(1), match.group(2)
        if target.startswith("@"):
            parts.append(("user", target[1:]))
        elif target.startswith("#"):
            parts.append(("ref", "#" + (label or target[1:])))
        else:
            parts.append(("ref", label or "@" + target[1:].split("^", 1)[0]))
        last = match.end()
    if last < len(text):
        parts.append(("text", text[last:]))
    return parts


def mentioned(texts: Iterable[str]) -> set[str]:
    """The user IDs mentioned in `texts`."""
    return {value for text in texts for kind, value in slack_parts(text) if kind == "user"}


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment is not None else ""


def _duration(value: timedelta | float | None) -> str:
    if value is None:
        return "—"
    return format_age(value if isinstance(value, timedelta) else timedelta(seconds=value))
