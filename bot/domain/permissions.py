"""Who may do what, from the policy's `permissions`. Pure."""

from __future__ import annotations

from enum import StrEnum

from bot.domain.errors import UserError
from bot.domain.incidents import IC_ROLE, Incident
from bot.domain.policy import Policy

ANYONE = "anyone"
ADMINS = "admins"


class Act(StrEnum):
    """Actions the policy can restrict."""

    DECLARE = "declare"
    SEVERITY = "severity"
    RESOLVE = "resolve"
    ROLES = "roles"
    STATUS = "status"
    REOPEN = "reopen"
    DECLARE_PRIVATE = "declare_private"
    MAKE_PUBLIC = "make_public"


_WHAT = {
    Act.DECLARE: "declare incidents",
    Act.SEVERITY: "change severity",
    Act.RESOLVE: "resolve",
    Act.ROLES: "assign roles",
    Act.STATUS: "change the status",
    Act.REOPEN: "reopen",
    Act.DECLARE_PRIVATE: "declare private incidents",
    Act.MAKE_PUBLIC: "make a private incident public",
}


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
    raise UserError(f"Only {_who(getattr(policy.permissions, act.value), policy)} may {_WHAT[act]} here.")


def require_role_change(role: str, *, assignee: str, actor: str, incident: Incident, policy: Policy) -> None:
    """Refuse a role assignment `actor` may not make.

    Anyone may claim a vacant role for themselves; otherwise the policy's `roles` grant decides, and a
    held Incident Commander role passes only by the IC's own hand or an admin's.
    """
    holder = incident.roles.get(role)
    if holder is None and assignee == actor:
        return
    if role == IC_ROLE and holder is not None:
        if actor == holder or actor in policy.admins:
            return
        raise UserError(f"Only the Incident Commander (<@{holder}>) or a Tocsin admin may hand over the IC role.")
    require(Act.ROLES, actor=actor, incident=incident, policy=policy)


def _who(grants: list[str], policy: Policy) -> str:
    names = {ADMINS: "a Tocsin admin"} | {r.key: f"the {r.name}" for r in policy.roles}
    return " or ".join(names.get(g, f"<@{g}>") for g in grants)
