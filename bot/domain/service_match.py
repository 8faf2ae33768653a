"""Which policy service an incident is about. Pure."""

from __future__ import annotations

import re

from bot.domain.policy import Policy

_WORD = re.compile(r"[a-z0-9]+")


def match_service(title: str, policy: Policy) -> str | None:
    """The first service whose name or a keyword appears in the title (whole words, any case)."""
    lowered = title.lower()
    words = set(_WORD.findall(lowered))
    for name, service in policy.services.items():
        for keyword in (name, *service.keywords):
            wanted = keyword.lower()
            if (wanted in words) if _WORD.fullmatch(wanted) else (wanted in lowered):
                return name
    return None


def pages_on_declare(service: str | None, severity: str, policy: Policy) -> bool:
    """Whether declaring at `severity` pages the service's on-call."""
    named = policy.services.get(service) if service else None
    if named is None or named.escalation_policy is None:
        return False
    return any(s.upper() == severity.upper() for s in named.page_on_declare)
