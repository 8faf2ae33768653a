"""Who may do what, from the policy's `permissions`. Pure.

The policy may name users by e-mail; a `Directory` says whose those addresses are (the use cases
resolve them through Slack first), so an address grants exactly what its owner's ID would. An API token
is granted by its principal, `token:<name>` (bot.domain.user_refs), matched as written."""

from __future__ import annotations

from enum import StrEnum

from bot.domain.errors import UserError
from bot.domain.incidents import IC_ROLE, Incident
from bot.domain.policy import Policy
from bot.domain.user_refs import Directory, token_actor, token_name

ANYONE = "anyone"
ADMINS = "admins"


class NotPermitted(UserError):
    """The policy does not let the actor do this (the API answers 403; Slack shows the message)."""


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
    PUBLISH = "publish"  # post to the public status page (granted by the policy's `status_page.publish`)


_WHAT = {
    Act.DECLARE: "declare incidents",
    Act.SEVERITY: "change severity",
    Act.RESOLVE: "resolve",
    Act.ROLES: "assign roles",
    Act.STATUS: "change the status",
    Act.REOPEN: "reopen",
    Act.DECLARE_PRIVATE: "declare private incidents",
    Act.MAKE_PUBLIC: "make a private incident public",
    Act.PUBLISH: "post to the status page",
}


def grants(act: Act, policy: Policy) -> list[str]:
    """Who the policy lets do `act`: its `permissions` entry (the status page's own for publishing)."""
    if act is Act.PUBLISH:
        return list(policy.status_page.publish)
    return list(getattr(policy.permissions, act.value))


def may(act: Act, *, actor: str, incident: Incident | None, policy: Policy, directory: Directory) -> bool:
    """Whether `actor` may do `act` (to `incident`) under the policy."""
    roles = {r.key for r in policy.roles}
    for grant in grants(act, policy):
        if grant == ANYONE:
            return True
        if grant == ADMINS and is_admin(actor, policy, directory):
            return True
        if grant in roles:
            if incident is not None and incident.roles.get(grant) == actor:
                return True
        elif (name := token_name(grant)) is not None:
            if token_actor(name) == actor:  # the actor a token acts as (a long name is cut to fit)
                return True
        elif directory.names(grant, actor):
            return True
    return False


def is_admin(actor: str, policy: Policy, directory: Directory) -> bool:
    """Whether the policy's `admins` name `actor` (by ID or e-mail)."""
    return any(directory.names(admin, actor) for admin in policy.admins)


def require(act: Act, *, actor: str, incident: Incident | None, policy: Policy, directory: Directory) -> None:
    """NotPermitted (a UserError) naming who may, when `actor` may not."""
    if may(act, actor=actor, incident=incident, policy=policy, directory=directory):
        return
    who = _who(grants(act, policy), policy, directory)
    raise NotPermitted(f"Only {who} may {_WHAT[act]} here.")


def require_role_change(
    role: str, *, assignee: str, actor: str, incident: Incident, policy: Policy, directory: Directory
) -> None:
    """Refuse a role assignment `actor` may not make.

    Anyone may claim a vacant role for themselves; otherwise the policy's `roles` grant decides, and a
    held Incident Commander role passes only by the IC's own hand or an admin's.
    """
    holder = incident.roles.get(role)
    if holder is None and assignee == actor:
        return
    if role == IC_ROLE and holder is not None:
        if actor == holder or is_admin(actor, policy, directory):
            return
        raise NotPermitted(f"Only the Incident Commander (<@{holder}>) or a Tocsin admin may hand over the IC role.")
    require(Act.ROLES, actor=actor, incident=incident, policy=policy, directory=directory)


def _who(grants: list[str], policy: Policy, directory: Directory) -> str:
    names = {ADMINS: "a Tocsin admin"} | {r.key: f"the {r.name}" for r in policy.roles}

    def person(ref: str) -> str:
        if (name := token_name(ref)) is not None:
            return f"the API token {name}"
        user_id = directory.user_id(ref)
        return f"<@{user_id}>" if user_id else ref

    return " or ".join(names.get(g, person(g)) for g in grants)
