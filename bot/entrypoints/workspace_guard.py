"""Only the workspace the bot token belongs to (auth.test's team) is obeyed. What comes from another
workspace (someone of another organisation in a Slack Connect channel, or a payload addressed to another
installation) is acknowledged, so Slack neither retries it nor disables the event subscription, and
ignored before any listener runs, logged once per workspace. A command or form gets the reason to see.

Who acted is read where Slack puts it, as bolt-python reads Slack Connect payloads: an event's
`user_team` or `team` (when it names neither: the workspace it happened in, `context_team_id`, else the
envelope's `team_id`); a command's `team_id`; an interaction's `team.id`, `user.team_id`, `view.team_id`.
In a shared channel the envelope's `team_id` may name the other organisation even when one of ours
acted, so an event whose `authorizations` name this installation is judged by its actor, not by that."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

log = logging.getLogger(__name__)

Middleware = Callable[..., Awaitable[BoltResponse | None]]

OUTSIDER_REASON = (
    "Tocsin works only for people in its own workspace: it does not take commands, buttons or forms "
    "from another organisation, even in a shared channel. Ask someone from that workspace to do it."
)
_LOGGED_AT_MOST = 1000  # distinct workspaces remembered for "logged once" (a flood cannot grow it)


@dataclass(frozen=True)
class Workspace:
    """The workspace (and Enterprise Grid org, if any) Tocsin serves, as auth.test names them."""

    team: str
    enterprise: str | None = None

    def owns(self, team_or_org: str) -> bool:
        """Whether a team ID (T…) or org ID (E…) Slack names is this workspace or its org."""
        return team_or_org == self.team or (self.enterprise is not None and team_or_org == self.enterprise)


def stranger(body: dict[str, Any], home: Workspace) -> str | None:
    """The other workspace(s) a request comes from, comma-separated; None when it is ours to act on."""
    installed = _installations(body)
    if installed and not any(home.owns(team) for team in installed):
        return _listed(installed)  # addressed to another installation of the app
    if body.get("type") == "event_callback" and isinstance(body.get("event"), dict):
        named = _event_actor(body)
    else:
        named = _ids(body.get("team_id"), body.get("enterprise_id"), _field(body, "enterprise", "id"))
        for part in ("team", "user", "view"):
            named |= _ids(_field(body, part, "id" if part == "team" else "team_id"))
        named |= _ids(_field(body, "user", "enterprise_id"))
    foreign = {team for team in named if not home.owns(team)}
    return _listed(foreign) if foreign else None


def _installations(body: dict[str, Any]) -> set[str]:
    """The installations a request is for: an event's authorizations, a form's app_installed_team_id."""
    found = _ids(_field(body, "view", "app_installed_team_id"))
    for authorization in body.get("authorizations") or []:
        if isinstance(authorization, dict):
            # An org-wide installation names the org and no team.
            found |= _ids(authorization.get("team_id") or authorization.get("enterprise_id"))
    return found


def _event_actor(body: dict[str, Any]) -> set[str]:
    """The workspace of whoever made an event happen, as far as Slack says."""
    event: dict[str, Any] = body["event"]
    for source in (event, event.get("message"), event.get("previous_message")):  # edits name it inside
        if isinstance(source, dict) and (team := source.get("user_team") or source.get("team")):
            return _ids(team)
    # Pins and reactions name no team: judge by the workspace the event happened in.
    return _ids(body.get("context_team_id") or body.get("team_id"))


def _field(body: dict[str, Any], part: str, key: str) -> Any:
    value = body.get(part)
    return value.get(key) if isinstance(value, dict) else None


def _ids(*values: Any) -> set[str]:
    return {str(value) for value in values if value}


def _listed(ids: set[str]) -> str:
    return ",".join(sorted(ids))


def refusal(body: dict[str, Any]) -> dict[str, Any] | str:
    """The acknowledgement for someone else's request: the reason, where Slack shows one to its sender."""
    if "command" in body:
        return {"response_type": "ephemeral", "text": OUTSIDER_REASON}
    view = body.get("view")
    if body.get("type") == "view_submission" and isinstance(view, dict):
        blocks = view.get("blocks")
        inputs = [
            b.get("block_id")
            for b in (blocks if isinstance(blocks, list) else [])
            if isinstance(b, dict) and b.get("type") == "input"
        ]
        if inputs and isinstance(inputs[0], str):
            return {"response_action": "errors", "errors": {inputs[0]: OUTSIDER_REASON}}
    return ""  # clicks, shortcuts and events: Slack shows nothing of an acknowledgement's body


def only_our_workspace(identity: Callable[[], tuple[str | None, str | None]]) -> Middleware:
    """Bolt middleware: acknowledge and ignore requests from any workspace but `identity()`'s (team, org)."""
    logged: set[str] = set()

    async def middleware(req: AsyncBoltRequest, next: Callable[[], Awaitable[None]]) -> BoltResponse | None:
        team, enterprise = identity()
        if team is None:
            return BoltResponse(status=503, body="Tocsin has not reached Slack yet")
        body = req.body if isinstance(req.body, dict) else {}
        other = stranger(body, Workspace(team, enterprise))
        if other is None:
            await next()
            return None
        if other not in logged and len(logged) < _LOGGED_AT_MOST:  # once per workspace, not per request
            logged.add(other)
            log.warning(
                "ignored a request from another workspace (%s), and will ignore its others without a log line: "
                "Tocsin acts only for %s",
                other,
                team,
            )
        return BoltResponse(status=200, body=refusal(body))

    return middleware
