"""How the policy names people and who to page, and how an API token is named as an actor. Pure.

A user is named by Slack user ID (`U…`, or `W…` on Enterprise Grid) or by e-mail address, in every
key that names users (schedules and their overrides, escalation tiers, admins, permissions, service
owners): one parser for all of them. Slack `@names` are refused: display names are neither unique nor
stable (anyone may change theirs), so a page could reach the wrong person or nobody.

An API token acts as `token:<name>` (its principal): that is the actor its changes record, and what the
policy's `permissions` lists write to grant it something (`resolve: [incident_commander, token:deploy]`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import AfterValidator, ValidationInfo

_USER_ID = re.compile(r"^[UW][A-Z0-9]+$")
_EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\".]+(?:\.[^@\s<>()\[\],;:\".]+)+$")
_GROUP_ID = re.compile(r"^S[A-Z0-9]+$")
TOKEN_PREFIX = "token:"  # noqa: S105 - not a secret: how an API token's principal is written
MAX_ACTOR = 32  # the widest actor the database keeps (declared_by, a timeline entry's actor…)
_TOKEN_ACTOR = re.compile(r"^token:([a-z0-9_-]{1,64})$")  # the names bot.domain.api_tokens allows
# A validation-context flag: take user references and targets as written, unchecked (a page's stored
# plan, accepted as it was when the page started; `tocsin check` looking past them for other problems).
AS_WRITTEN = "as_written"


def parse_user_ref(text: str) -> str:
    """A user as the policy names them (ID or e-mail), stripped; ValueError saying what to write instead."""
    value = text.strip()
    if _USER_ID.match(value) or _EMAIL.match(value):
        return value
    if value.startswith("<@"):
        hint = "write the ID inside the mention alone, e.g. U0123ABCD"
    elif value.startswith("@"):
        hint = "@names are not unique and can change, so give the member ID (U…) or e-mail address"
    else:
        hint = "give a Slack member ID (U…) or an e-mail address"
    raise ValueError(f"{text!r} is not a user: {hint}")


def token_actor(name: str) -> str:
    """The actor an API token's changes record: `token:<name>`, in at most MAX_ACTOR characters (the
    width of the columns that store actors): a longer name is cut, with a hash of the whole keeping it
    apart from others cut alike."""
    actor = f"{TOKEN_PREFIX}{name}"
    if len(actor) <= MAX_ACTOR:
        return actor
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{actor[: MAX_ACTOR - len(digest) - 1]}-{digest}"


def token_name(actor: str | None) -> str | None:
    """The token's name when `actor` is an API token's principal (`token:<name>`), else None."""
    match = _TOKEN_ACTOR.match(actor) if actor else None
    return match.group(1) if match else None


def parse_grant(text: str) -> str:
    """A person named in a `permissions` list: a user (ID or e-mail) or an API token (`token:<name>`);
    ValueError saying what to write instead."""
    value = text.strip()
    if value.startswith(TOKEN_PREFIX):
        if token_name(value) is None:
            raise ValueError(f"{text!r} is not an API token: write token:NAME (a-z, 0-9, - and _, up to 64)")
        return value
    return parse_user_ref(value)


def grant_problems(key: str, grants: list[str], roles: Collection[str]) -> list[str]:
    """What is wrong with a permission-like list at `key` (`permissions.resolve`): each entry must be
    anyone, admins, a role, a user or an API token."""
    problems = []
    for number, grant in enumerate(grants):
        if grant in ("anyone", "admins") or grant in roles:
            continue
        try:
            parse_grant(grant)
        except ValueError as exc:
            problems.append(f"{key}[{number}]: {exc}, or anyone, admins, a role or token:NAME")
    return problems


def is_email(ref: str) -> bool:
    """Whether a (parsed) user reference is an e-mail address rather than a user ID."""
    return "@" in ref


def _as_written(info: ValidationInfo) -> bool:
    return isinstance(info.context, dict) and bool(info.context.get(AS_WRITTEN))


def _checked_user(value: str, info: ValidationInfo) -> str:
    return value if _as_written(info) else parse_user_ref(value)


def _checked_target(value: str, info: ValidationInfo) -> str:
    return value if _as_written(info) else str(parse_target(value))


UserRef = Annotated[str, AfterValidator(_checked_user)]
"""A policy field naming one user (the type every such key uses)."""

NotifyTarget = Annotated[str, AfterValidator(_checked_target)]
"""An escalation tier's `notify` entry, written back in its one spelling (`email:x` is `user:x`)."""


@dataclass(frozen=True, slots=True)
class Target:
    """One escalation target: a schedule (whoever is on call), a user, or a user group."""

    kind: Literal["schedule", "user", "group"]
    value: str

    def __str__(self) -> str:
        """As the policy writes it: `user:erin@example.com`."""
        return f"{self.kind}:{self.value}"


def parse_target(text: str) -> Target:
    """An escalation tier's `notify` entry; ValueError naming the forms it may take.

    `email:ADDRESS` is read as `user:ADDRESS` (an older spelling)."""
    kind, colon, value = text.strip().partition(":")
    if colon and kind == "schedule" and value.strip():
        return Target("schedule", value.strip())
    if colon and kind in ("user", "email"):
        ref = parse_user_ref(value)
        if kind == "email" and not is_email(ref):
            raise ValueError(f"{text!r}: email: needs an e-mail address (or write user:{ref})")
        return Target("user", ref)
    if colon and kind == "group":
        if _GROUP_ID.match(value.strip()):
            return Target("group", value.strip())
        raise ValueError(f"{text!r}: a user group is named by its ID, S…")
    raise ValueError(f"{text!r} must be schedule:NAME, user:U… (or user:ADDRESS) or group:S…")


@dataclass(frozen=True, slots=True)
class Directory:
    """The Slack user IDs that e-mail addresses in the policy belong to, as Slack last said."""

    ids: Mapping[str, str] = field(default_factory=dict)  # e-mail address (as written) → user ID

    def user_id(self, ref: str) -> str | None:
        """The user a reference means: an ID itself, an e-mail its owner's ID (None when unknown)."""
        return self.ids.get(ref) if is_email(ref) else ref

    def names(self, ref: str, user_id: str) -> bool:
        """Whether the policy's `ref` names the user `user_id`."""
        return self.user_id(ref) == user_id
