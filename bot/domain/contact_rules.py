"""A person's own contact rules: which attempts they give for a page's severity and the start of their turn,
their verification codes and the single-use tokens of outside acknowledgements. Pure."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.contact_addresses import METHOD_NAMES, OUTSIDE, SLACK
from bot.domain.contact_policy import ContactRule
from bot.domain.durations import format_duration, parse_duration

CODE_LIFETIME = timedelta(minutes=15)
CODE_TRIES = 5  # wrong codes before a new one must be asked for
MAX_RULES = 10
_RULE = re.compile(r"^(?P<method>[a-z]+)(?:@(?P<after>[0-9a-z]+))?(?::(?P<sev>[A-Za-z0-9_-]+))?$")

# Without rules of their own, a person's verified methods are tried in this order, this long into their turn.
DEFAULT_AFTER = {
    "ntfy": timedelta(minutes=1),
    "pushover": timedelta(minutes=1),
    "sms": timedelta(minutes=2),
    "voice": timedelta(minutes=3),
    "email": timedelta(minutes=4),
}


@dataclass(frozen=True, slots=True)
class PlannedAttempt:
    """One try to reach a person during their turn: `n` counts their attempts in the turn, from 1."""

    n: int
    method: str
    address: str
    due_at: datetime


def parse_rule(text: str, severities: Sequence[str]) -> ContactRule:
    """`ntfy@1m:SEV2` (method, how long into the turn, the least severity it is for); ValueError otherwise."""
    found = _RULE.match(text.strip().lower())
    if not found:
        raise ValueError(f"`{text[:40]}` is not a rule: write method@delay[:severity], e.g. voice@3m:SEV1")
    method = found["method"]
    if method not in METHOD_NAMES:
        raise ValueError(f"`{method[:20]}` is not a method: use {', '.join(METHOD_NAMES)}")
    after = parse_duration(found["after"]) if found["after"] else timedelta(0)
    severity = None
    if found["sev"]:
        by_name = {s.lower(): s for s in severities}
        wanted = found["sev"].lower()
        severity = by_name.get(wanted) or by_name.get(f"sev{wanted}")
        if severity is None:
            raise ValueError(f"`{found['sev'][:20]}` is not a severity: use {', '.join(severities)}")
    return ContactRule.model_validate({"method": method, "after": after, "min_severity": severity})


def rule_text(rule: ContactRule) -> str:
    """A rule as people write it (`voice@3m:SEV1`)."""
    after = format_duration(rule.after) if rule.after else "0s"
    return f"{rule.method}@{after}" + (f":{rule.min_severity}" if rule.min_severity else "")


def default_rules(addresses: Mapping[str, str]) -> list[ContactRule]:
    """The rules of someone who set none: Slack at once, then each of their methods in turn."""
    wanted = [SLACK, *(m for m in OUTSIDE if m in addresses)]
    return [ContactRule.model_validate({"method": m, "after": DEFAULT_AFTER.get(m, timedelta(0))}) for m in wanted]


def attempts_for(
    rules: Iterable[ContactRule],
    addresses: Mapping[str, str],
    *,
    severity: str,
    rank: Callable[[str], int],
    usable: set[str],
    turn_start: datetime,
) -> list[PlannedAttempt]:
    """The outside attempts `rules` give a page of `severity` whose turn began at `turn_start` (Slack's DM is
    sent by the page itself): each rule whose method is usable, has an address and applies to the severity."""
    wanted = rank(severity)
    chosen = [
        r
        for r in rules
        if r.method != SLACK
        and r.method in usable
        and r.method in addresses
        and (r.min_severity is None or wanted <= rank(r.min_severity))
    ]
    chosen.sort(key=lambda r: r.after)
    return [
        PlannedAttempt(n, r.method, addresses[r.method], turn_start + r.after) for n, r in enumerate(chosen, start=1)
    ]


def new_code() -> str:
    """A six-digit verification code."""
    return f"{secrets.randbelow(1_000_000):06d}"


def new_token() -> str:
    """An unguessable single-use token (for an acknowledgement link or a provider's callback)."""
    return secrets.token_urlsafe(24)


def digest(secret: str) -> str:
    """How a code or token is stored: its SHA-256, so a database dump acknowledges nothing."""
    return hashlib.sha256(secret.encode()).hexdigest()


def same_code(code: str, stored_digest: str) -> bool:
    """Whether `code` is the one whose digest was stored (compared in constant time)."""
    return secrets.compare_digest(digest(code.strip()), stored_digest)
