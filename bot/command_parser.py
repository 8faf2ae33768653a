"""`/incident <subcommand> …` text into typed commands. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.errors import UsageError
from bot.incidents import clean_title
from bot.mrkdwn import plain_from_slack
from bot.policy import Policy


@dataclass(frozen=True, slots=True)
class Subcommand:
    """What `help` says of a subcommand, and whether this version does it yet."""

    name: str
    usage: str
    summary: str
    available: bool


SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand("declare", "declare [sev1-4] <title>", "declare an incident (no title: open the form)", True),
    Subcommand("ic", "ic @user", "make someone Incident Commander", False),
    Subcommand("comms", "comms @user", "make someone Communications Lead", False),
    Subcommand("role", "role <role> @user", "assign any role from the policy", False),
    Subcommand("sev", "sev <1-4> [reason]", "change severity", False),
    Subcommand("status", "status <investigating|identified|monitoring|resolved>", "move the lifecycle", False),
    Subcommand("update", "update <text>", "post a status update", False),
    Subcommand("note", "note <text>", "add a timeline entry", False),
    Subcommand("page", "page @user|<service>", "page someone or a service's on-call", False),
    Subcommand("resolve", "resolve [summary]", "resolve; posts the postmortem draft", False),
    Subcommand("followup", "followup <text> [@owner] [due YYYY-MM-DD]", "add an action item", False),
    Subcommand("runbook", "runbook [name]", "show the matched or named runbook", False),
    Subcommand("list", "list", "open incidents", True),
    Subcommand("stats", "stats", "MTTA, MTTR and friends", False),
    Subcommand("help", "help", "this list", True),
)
_BY_NAME = {s.name: s for s in SUBCOMMANDS}
_SEVERITY_WORD = re.compile(r"^sev[-_]?(\d)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Declare:
    """Declare an incident; no title means: open the declare form."""

    title: str | None
    severity: str | None


@dataclass(frozen=True, slots=True)
class Help:
    """Show usage."""


@dataclass(frozen=True, slots=True)
class ListOpen:
    """Show open incidents."""


@dataclass(frozen=True, slots=True)
class NotYetAvailable:
    """A subcommand from the contract that this version does not do yet."""

    subcommand: Subcommand


Command = Declare | Help | ListOpen | NotYetAvailable


def parse_command(text: str, policy: Policy) -> Command:
    """Parse the text after `/incident`; UsageError for anything not understood."""
    words = text.split(maxsplit=1)
    if not words:
        return Help()
    name, rest = words[0].lower(), (words[1] if len(words) > 1 else "")
    if name == "declare":
        return _parse_declare(rest, policy)
    if name == "help":
        return Help()
    if name == "list":
        if rest.strip():
            raise UsageError("`list` takes no arguments.", usage="/incident list")
        return ListOpen()
    if name in _BY_NAME:
        return NotYetAvailable(_BY_NAME[name])
    raise UsageError(f"I don't know the subcommand “{words[0][:40]}”.", usage="/incident help")


def _parse_declare(rest: str, policy: Policy) -> Declare:
    words = rest.split(maxsplit=1)
    severity = None
    if words and (named := severity_from_word(words[0], policy)) is not None:
        severity = named
        rest = words[1] if len(words) > 1 else ""
    elif words and _looks_like_severity(words[0]):
        raise UsageError(
            f"“{words[0][:20]}” isn't a severity here; use one of {', '.join(policy.severity_names)}.",
            usage="/incident " + _BY_NAME["declare"].usage,
        )
    # Slack sends typed text escaped (should_escape): store it as the plain text the person typed.
    title = clean_title(plain_from_slack(rest)) if rest.strip() else None
    return Declare(title=title, severity=severity)


def severity_from_word(word: str, policy: Policy) -> str | None:
    """`sev2`, `SEV-2` or a policy severity's name → the policy's name for it."""
    if (named := policy.severity_named(word)) is not None:
        return named.name
    match = _SEVERITY_WORD.match(word)
    if match:
        named = policy.severity_named(f"SEV{match.group(1)}")
        return named.name if named else None
    return None


def _looks_like_severity(word: str) -> bool:
    return bool(re.match(r"^sev[-_]?\w*$", word, re.IGNORECASE))
