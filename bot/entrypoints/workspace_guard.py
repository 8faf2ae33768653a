"""Only the workspace the bot token belongs to is obeyed: a validly signed request that names another
team (another workspace sharing the signing secret, or a crafted payload) is refused before any listener
runs, so it has no side effects."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

log = logging.getLogger(__name__)

Middleware = Callable[..., Awaitable[BoltResponse | None]]


def teams_named(body: dict[str, Any]) -> set[str]:
    """Every workspace (team) ID a request body names, wherever Slack puts one."""
    found: set[Any] = {body.get("team_id")}
    for key in ("team", "user", "view"):
        part = body.get(key)
        if isinstance(part, dict):
            found |= {part.get("id") if key == "team" else None, part.get("team_id")}
    for authorization in body.get("authorizations") or []:
        if isinstance(authorization, dict):
            found.add(authorization.get("team_id"))
    return {str(team) for team in found if team}


def enterprises_named(body: dict[str, Any]) -> set[str]:
    """Every Enterprise Grid org ID a request body names."""
    found: set[Any] = {body.get("enterprise_id")}
    enterprise = body.get("enterprise")
    if isinstance(enterprise, dict):
        found.add(enterprise.get("id"))
    for authorization in body.get("authorizations") or []:
        if isinstance(authorization, dict):
            found.add(authorization.get("enterprise_id"))
    return {str(e) for e in found if e}


def only_our_workspace(identity: Callable[[], tuple[str | None, str | None]]) -> Middleware:
    """Bolt middleware refusing requests from any workspace but `identity()`'s (team, enterprise)."""
    refused: set[str] = set()

    async def middleware(req: AsyncBoltRequest, next: Callable[[], Awaitable[None]]) -> BoltResponse | None:
        team, enterprise = identity()
        body = req.body if isinstance(req.body, dict) else {}
        teams, enterprises = teams_named(body), enterprises_named(body)
        if team is not None and teams == {team} and enterprises <= ({enterprise} if enterprise else set()):
            await next()
            return None
        if team is None:
            return BoltResponse(status=503, body="Tocsin has not reached Slack yet")
        stranger = ",".join(sorted((teams | enterprises) - {team, enterprise or ""})) or "none named"
        if stranger not in refused:  # logged once per stranger, not once per request
            refused.add(stranger)
            log.warning("refused a request from another workspace (%s); Tocsin serves %s only", stranger, team)
        # Over Socket Mode a refusal is still acknowledged (empty), or Slack would deliver it again.
        return BoltResponse(status=200 if req.mode == "socket_mode" else 403, body="")

    return middleware
