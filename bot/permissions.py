"""Who may do what, from the policy's `permissions`. Pure."""

from __future__ import annotations

from enum import StrEnum

from bot.errors import UserError
from bot.incidents import Incident
from bot.policy import Policy

ANYONE = "anyone"
ADMINS = "admins"


class Act(StrEnum):
    """Actions the policy can restrict."""

    DECLARE = "declare"
    SEVERITY = "severity"
    RESOLVE = "resolve"


def may(act: Act, *, actor: str, incident: Incident | None, policy: Policy) -> bool:
    """Whether `actor` may do `act` (to `incident`) under the policy."""
    for grant in getattr(policy.permissions, act.value):
        if grant in (ANYONE, actor):
            return True
        if grant == ADMINS and actor in policy.admins:
            return True
        if incident is not None and incident.roles.get(grant) == actor:
            return True
    return False


def require(act: Act, *, actor: str, incident: Incident | None, policy: Policy) -> None:
    """UserError naming who may, when `actor` may not."""
    if may(act, actor=actor, incident=incident, policy=policy):
        return
    names = {ADMINS: "a Tocsin admin"} | {r.key: f"the {r.name}" for r in policy.roles}
    grants = [names.get(g, f"<@{g}>") for g in getattr(policy.permissions, act.value)]
    what = {Act.DECLARE: "declare incidents", Act.SEVERITY: "change severity", Act.RESOLVE: "resolve"}[act]
    raise UserError(f"Only {' or '.join(grants)} may {what} here.")
