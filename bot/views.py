"""Modal submissions: the declare form."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.context import Deps
from bot.declare_form import DeclareForm, read_declare_form
from bot.ids import View
from bot.incidents import NewIncident
from bot.slack_io import ReplyTarget


def register(app: AsyncApp, deps: Deps) -> None:
    """Listen for modal submissions."""

    @app.view(View.DECLARE)
    async def declare_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        form = read_declare_form(view["state"]["values"], deps.policy, now=deps.incidents.clock())
        if not isinstance(form, DeclareForm):
            await ack(response_action="errors", errors=form)
            return
        await ack()
        user_id = body["user"]["id"]
        new = NewIncident(
            team_id=body["team"]["id"] if body.get("team") else view["team_id"],
            title=form.title,
            severity=form.severity,
            declared_by=user_id,
            # Slack keeps the view id across a double submit: one view, one incident.
            declare_key=f"view:{view['id']}",
            description=form.description,
            detected_via=form.detected_via,
            started_at=form.started_at,
        )
        reply_to = ReplyTarget(user_id, _origin_channel(view))
        deps.background.submit(body, lambda: deps.incidents.declare(new, reply_to=reply_to))


def _origin_channel(view: dict[str, Any]) -> str | None:
    try:
        channel = json.loads(view.get("private_metadata") or "{}").get("channel")
    except (ValueError, AttributeError):
        return None
    return channel if isinstance(channel, str) else None
