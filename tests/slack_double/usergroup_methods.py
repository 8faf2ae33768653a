"""The double's usergroups.list and usergroups.users.update, as Slack's reference documents them
(arguments, errors, scopes); mixed into SlackDouble.

- usergroups.list (usergroups:read, tier 2): the workspace's groups with `id`, `team_id`, `is_usergroup`,
  `name`, `handle`, `date_delete` (0 unless disabled), `user_count`; `users` only with `include_users`;
  disabled groups only with `include_disabled`.
- usergroups.users.update (usergroups:write, tier 2): `usergroup` (an ID: `no_such_subteam` otherwise) and
  `users`, a comma-separated list that REPLACES the members; none is `no_users_provided` (Slack will not
  empty a group: usergroups.disable does that), an unknown, deactivated or bot user `invalid_users`. With
  `refuse_group_updates(n)` the next n updates answer `permission_denied`, as Slack does when the
  workspace lets only admins manage user groups (a bot token then never can).
"""

from __future__ import annotations

import sys
import time
from typing import Any

SCOPES = {"usergroups.list": {"usergroups:read"}, "usergroups.users.update": {"usergroups:write"}}
TIERS = {"usergroups.list": 20, "usergroups.users.update": 20}


class UserGroupMethods:
    """Methods `m_<method_with_underscores>(args) -> dict` the double dispatches to."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """The double's module gains these methods' scopes and rate tiers as the double is defined."""
        super().__init_subclass__(**kwargs)
        server = sys.modules[cls.__module__]
        server.METHOD_SCOPES.update(SCOPES)
        server.METHOD_TIERS.update(TIERS)

    # ----- workspace set-up and what tests look at ----------------------------------------------------
    def add_group(self, group_id: str, handle: str, users: set[str] | None = None, *, disabled: bool = False) -> str:
        """A user group with a mention handle (`checkout-oncall`) and its members."""
        self._groups()[group_id] = set(users or ())
        self._group_info()[group_id] = {"handle": handle, "disabled": disabled, "updated": 0}
        return group_id

    def refuse_group_updates(self, times: int, error: str = "permission_denied") -> None:
        """The next `times` usergroups.users.update calls are refused with `error`."""
        self.__dict__["_group_refusals"] = [error] * times

    def group_updates(self, group_id: str) -> list[list[str]]:
        """The member lists usergroups.users.update set on a group, in order (refused calls not included)."""
        calls = self.calls_to("usergroups.users.update")  # type: ignore[attr-defined]
        return [str(c.args.get("users", "")).split(",") for c in calls if c.args.get("usergroup") == group_id]

    def _groups(self) -> dict[str, set[str]]:
        groups: dict[str, set[str]] = self.groups  # type: ignore[attr-defined]
        return groups

    def _group_info(self) -> dict[str, dict[str, Any]]:
        info: dict[str, dict[str, Any]] | None = self.__dict__.get("_group_store")
        if info is None:
            info = self.__dict__["_group_store"] = {}
        return info

    def _group_json(self, group_id: str, *, with_users: bool) -> dict[str, Any]:
        info = self._group_info().get(group_id, {"handle": group_id.lower(), "disabled": False, "updated": 0})
        members = sorted(self._groups().get(group_id, set()))
        body: dict[str, Any] = {
            "id": group_id,
            "team_id": self.team_id,  # type: ignore[attr-defined]
            "is_usergroup": True,
            "name": str(info["handle"]).replace("-", " ").title(),
            "handle": info["handle"],
            "is_external": False,
            "date_create": 1_700_000_000,
            "date_update": info["updated"] or 1_700_000_000,
            "date_delete": 1_700_000_001 if info["disabled"] else 0,
            "user_count": len(members),
        }
        if with_users:
            body["users"] = members
        return body

    # ----- the methods ----------------------------------------------------------------------------
    def m_usergroups_list(self, args: dict[str, Any]) -> dict[str, Any]:
        with_users, with_disabled = _truthy(args.get("include_users")), _truthy(args.get("include_disabled"))
        found = [
            self._group_json(group_id, with_users=with_users)
            for group_id in sorted(self._groups())
            if with_disabled or not self._group_info().get(group_id, {}).get("disabled")
        ]
        return {"usergroups": found}

    def m_usergroups_users_update(self, args: dict[str, Any]) -> dict[str, Any]:
        error = _server().SlackError
        group_id = str(args.get("usergroup") or "")
        if not group_id:
            raise error("invalid_arguments")
        if group_id not in self._groups():
            raise error("no_such_subteam")
        refusals: list[str] = self.__dict__.get("_group_refusals", [])
        if refusals:
            raise error(refusals.pop(0))
        users = [u.strip() for u in str(args.get("users") or "").split(",") if u.strip()]
        if not users:
            raise error("no_users_provided")
        known: dict[str, dict[str, Any]] = self.users  # type: ignore[attr-defined]
        if any(u not in known or known[u].get("is_bot") or known[u].get("deleted") for u in users):
            raise error("invalid_users")
        self._groups()[group_id] = set(users)
        info = self._group_info().setdefault(group_id, {"handle": group_id.lower(), "disabled": False, "updated": 0})
        info["updated"] = int(time.time())
        return {"usergroup": self._group_json(group_id, with_users=True)}


def _truthy(value: object) -> bool:
    return str(value).lower() in ("1", "true", "yes")


def _server() -> Any:
    """The double's module (loaded by the time any method runs)."""
    return sys.modules["tests.slack_double.server"]
