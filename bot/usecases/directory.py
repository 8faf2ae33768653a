"""Whose Slack account a user named in the policy is: the one resolver every use case asks (paging,
permissions, `tocsin check --slack`), with a cache so a page or a permission check rarely waits on Slack.

An ID is its own answer (a page's DM says soon enough whether Slack knows it); an e-mail address is
looked up with users.lookupByEmail. What Slack said is kept for a while (an address nobody has, briefly:
the person may be invited any minute); a lookup Slack did not answer is not kept."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.errors import slack_error
from bot.domain.policy import Policy
from bot.domain.policy_users import permission_users
from bot.domain.user_refs import Directory, is_email, parse_user_ref
from bot.usecases.ports import Clock, Slack

log = logging.getLogger(__name__)

FOUND_FOR = timedelta(hours=1)  # an address's owner, as Slack said
NOT_FOUND_FOR = timedelta(minutes=5)  # an address nobody in the workspace has
NO_SUCH_EMAIL = "no Slack user has that e-mail"
NO_SUCH_USER = "no active Slack user has that ID"


@dataclass(frozen=True, slots=True)
class Resolved:
    """What a user reference turned out to mean: a user ID, or why there is none."""

    ref: str
    user_id: str | None
    problem: str | None = None


@dataclass
class UserDirectory:
    """Resolves user references (IDs, e-mail addresses) to Slack user IDs, remembering the answers."""

    slack: Slack
    policy: Policy
    clock: Clock
    _known: dict[str, tuple[datetime, Resolved]] = field(default_factory=dict, init=False, repr=False)

    async def resolve(self, ref: str, *, verify_ids: bool = False) -> Resolved:
        """The user `ref` names; `verify_ids` asks Slack about IDs too (what `tocsin check --slack` does)."""
        try:
            value = parse_user_ref(ref)
        except ValueError as exc:
            return Resolved(ref, None, str(exc))
        if not is_email(value) and not verify_ids:
            return Resolved(ref, value)
        key = f"{'email' if is_email(value) else 'id'}:{value}"
        now = self.clock()
        cached = self._known.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            if is_email(value):
                found = await self.slack.user_id_for_email(value)
                answer = Resolved(ref, found, None if found else NO_SUCH_EMAIL)
            else:
                exists = await self.slack.user_exists(value)
                answer = Resolved(ref, value if exists else None, None if exists else NO_SUCH_USER)
        except Exception as exc:  # Slack down or refusing: say so, and ask again next time
            log.warning("could not look up %s in Slack: %s", value, slack_error(exc))
            return Resolved(ref, None, f"Slack did not answer ({slack_error(exc)})")
        self._known[key] = (now + (FOUND_FOR if answer.user_id else NOT_FOUND_FOR), answer)
        return answer

    async def resolve_all(self, refs: Iterable[str], *, verify_ids: bool = False) -> list[Resolved]:
        """Each of `refs` resolved, in order (the lookups run together)."""
        return list(await asyncio.gather(*(self.resolve(r, verify_ids=verify_ids) for r in refs)))

    async def for_permissions(self) -> Directory:
        """Whose the e-mail addresses in `admins` and `permissions` are (an address nobody has grants nothing)."""
        emails = [u for u in permission_users(self.policy) if is_email(u)]
        if not emails:
            return Directory()
        found = await self.resolve_all(emails)
        return Directory({r.ref: r.user_id for r in found if r.user_id})


async def permission_directory(directory: UserDirectory | None) -> Directory:
    """What permission checks are given: the resolved addresses, or none without a directory (IDs only)."""
    return await directory.for_permissions() if directory is not None else Directory()
