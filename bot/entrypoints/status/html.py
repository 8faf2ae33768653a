"""The status page as HTML: one Jinja2 template with autoescape on (every published word is escaped; none
is ever marked safe), no inline script or style (the CSP allows neither), readable at a phone's width."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.domain.status_page import StatusSnapshot

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _utc(when: datetime) -> str:
    at = when.astimezone(UTC)
    return f"{at:%b} {at.day}, {at:%Y %H:%M} UTC"


class StatusHtml:
    """Renders a snapshot as the page's HTML bytes."""

    def __init__(self) -> None:
        """Load the template once."""
        environment = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        environment.filters["utc"] = _utc
        self._template = environment.get_template("status.html")

    def render(self, snapshot: StatusSnapshot) -> bytes:
        """The page (UTF-8)."""
        return self._template.render(page=snapshot, indicator=snapshot.indicator).encode()
