"""Who a policy names: every user (by key path), the users its permissions name, its user groups. Pure.

What `tocsin check --slack` asks Slack about, and what permission checks need resolved first."""

from __future__ import annotations

from bot.domain.policy import Policy

KeyPath = tuple[str | int, ...]


def users_named(policy: Policy) -> list[tuple[KeyPath, str]]:
    """Every user the policy names, with the key path that names them (ID or e-mail, as written)."""
    named: list[tuple[KeyPath, str]] = [(("admins", n), u) for n, u in enumerate(policy.admins)]
    users = set(permission_users(policy))
    for act, grants in policy.permissions.model_dump().items():
        named += [(("permissions", act, n), g) for n, g in enumerate(grants) if g in users]
    for name, schedule in policy.schedules.items():
        if schedule.users is not None:
            named += [(("schedules", name, "users", n), u) for n, u in enumerate(schedule.users)]
        else:
            for index, layer in enumerate(schedule.layers):
                named += [(("schedules", name, "layers", index, "users", n), u) for n, u in enumerate(layer.users)]
        named += [(("schedules", name, "overrides", n, "user"), o.user) for n, o in enumerate(schedule.overrides)]
    named += [(path, target.removeprefix("user:")) for path, target in _targets(policy, "user:")]
    for name, service in policy.services.items():
        named += [(("services", name, "owners", n), u) for n, u in enumerate(service.owners)]
    return named


def permission_users(policy: Policy) -> list[str]:
    """The users `admins` and `permissions` name (what deciding who may do what needs resolved)."""
    grants = [g for granted in policy.permissions.model_dump().values() for g in granted]
    grants += policy.status_page.publish  # who may publish to the status page
    keys = {"anyone", "admins", *(r.key for r in policy.roles)}
    return list(dict.fromkeys([*policy.admins, *(g for g in grants if g not in keys)]))


def groups_named(policy: Policy) -> list[tuple[KeyPath, str]]:
    """Every user group the escalation tiers notify, with its key path."""
    return [(path, target.removeprefix("group:")) for path, target in _targets(policy, "group:")]


def _targets(policy: Policy, kind: str) -> list[tuple[KeyPath, str]]:
    return [
        (("escalation_policies", name, "tiers", index, "notify", number), target)
        for name, escalation in policy.escalation_policies.items()
        for index, tier in enumerate(escalation.tiers)
        for number, target in enumerate(tier.notify)
        if target.startswith(kind)
    ]
