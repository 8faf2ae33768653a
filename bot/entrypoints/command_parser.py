"""`/incident <subcommand> …` text into typed commands. Pure.

Slack sends the text escaped (`should_escape: true`): mentions arrive as `<@U123|name>`, channels as
`<#C123|name>`, and `&`, `<`, `>` as entities. Free text is stored as the plain text the person typed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from bot.domain.custom_fields import parse_given, take_assignments
from bot.domain.errors import UsageError, UserError
from bot.domain.incidents import HERE, INCIDENT_REF, Status, Target, clean_title
from bot.domain.numbers import parse_id
from bot.domain.policy import Policy
from bot.domain.type_policy import type_named
from bot.entrypoints.command_families import CommandFamily, Parser
from bot.entrypoints.command_types import (
    SUBCOMMANDS,
    AddFollowUp,
    AddNote,
    AssignRole,
    ChangeSeverity,
    ChangeStatus,
    ChangeVisibility,
    Command,
    Declare,
    Help,
    ListFollowUps,
    ListOpen,
    NotYetAvailable,
    PageSomeone,
    PostmortemDone,
    PostUpdate,
    RegeneratePostmortem,
    Reopen,
    Resolve,
    ShowOnCall,
    ShowRunbooks,
    ShowStats,
    ShowSummary,
    ShowTimeline,
)
from bot.slack.mrkdwn import escape, plain_from_slack, quoted


def _family_parser(name: str, rest: str, families: Sequence[CommandFamily]) -> tuple[Parser, str, str] | None:
    """The family parser for `name` (or `oncall <word>`), the subcommand's words, and the text after them."""
    if name == "oncall":
        parts = rest.split(maxsplit=1)
        word = parts[0].lower() if parts else ""
        for family in families:
            if word in family.oncall:
                return family.oncall[word], f"oncall {word}", parts[1] if len(parts) > 1 else ""
        return None
    if name in _BY_NAME and _BY_NAME[name].available:
        return None  # the core's own
    for family in families:
        if name in family.parsers:
            return family.parsers[name], name, rest
    return None


def _usage_of(words: str, families: Sequence[CommandFamily]) -> str:
    for family in families:
        for sub in family.subcommands:
            if sub.name == words:
                return sub.usage
    return words


def parse_status(word: str) -> Status:
    """The status a person means; UserError listing the choices otherwise."""
    wanted = word.strip().lower()
    for status in (Status.INVESTIGATING, Status.IDENTIFIED, Status.MONITORING, Status.RESOLVED):
        if status.value == wanted:
            return status
    raise UserError(f"{quoted(word, 30)} isn't a status; use investigating, identified, monitoring or resolved.")


_BY_NAME = {s.name: s for s in SUBCOMMANDS}
_SEVERITY_WORD = re.compile(r"^sev[-_]?(\d)$", re.IGNORECASE)
_USER_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_CHANNEL_MENTION = re.compile(r"^<#(C[A-Z0-9]+)(?:\|[^>]*)?>$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
STATS_WINDOWS = {"30d": 30, "90d": 90, "all": None}
MAX_NOTE_LENGTH = 3000


def parse_command(text: str, policy: Policy, families: Sequence[CommandFamily] = ()) -> Command | object:
    """Parse the text after `/incident` (with the capabilities' `families` of subcommands); UsageError for
    anything not understood."""
    words = text.split(maxsplit=1)
    if not words:
        return Help()
    name, rest = words[0].lower(), (words[1] if len(words) > 1 else "")
    if (added := _family_parser(name, rest, families)) is not None:
        parser, word, after = added
        return parser(after, policy, "/incident " + _usage_of(word, families))
    usage = "/incident " + _BY_NAME[name].usage if name in _BY_NAME else "/incident help"
    if name == "declare":
        return _parse_declare(rest, policy)
    if name == "help":
        return Help()
    if name == "list":
        if rest.strip():
            raise UsageError("`list` takes no arguments.", usage=usage)
        return ListOpen()
    if name in _BY_NAME and not _BY_NAME[name].available:
        return NotYetAvailable(_BY_NAME[name])
    if name == "oncall":
        service = rest.strip().lower() or None
        if service is not None and service not in policy.services:
            known = escape(", ".join(sorted(policy.services)) or "none are configured")
            raise UsageError(f"There is no service called {quoted(service)} ({known}).", usage=usage)
        return ShowOnCall(service)
    if name == "stats":
        return _parse_stats(rest, usage, policy)
    if name == "followups":
        scope = rest.strip().lower() or "incident"
        if scope in ("mine", "open"):
            return ListFollowUps(scope)
        target, extra = _take_target(rest)
        if scope != "incident" and (target == HERE or extra.strip()):
            raise UsageError("List `mine`, `open`, or one incident's (INC-42).", usage=usage)
        return ListFollowUps("incident", target)
    if name not in _BY_NAME:
        raise UsageError(f"I don't know the subcommand {quoted(words[0])}.", usage=usage)
    target, rest = _take_target(rest)
    match name:
        case "ic" | "comms":
            role = "incident_commander" if name == "ic" else "comms_lead"
            return AssignRole(role, _user(rest, usage), target)
        case "role":
            parts = rest.split(maxsplit=1)
            if len(parts) < 2:
                raise UsageError("Name the role and the person.", usage=usage)
            named = policy.role(parts[0])
            if named is None:
                roles = escape(", ".join(r.aliases[0] if r.aliases else r.key for r in policy.roles))
                raise UsageError(f"{quoted(parts[0], 30)} isn't a role; use one of {roles}.", usage=usage)
            return AssignRole(named.key, _user(parts[1], usage), target)
        case "sev":
            parts = rest.split(maxsplit=1)
            severity = severity_from_word(parts[0], policy, bare_digits=True) if parts else None
            if severity is None:
                choices = escape(", ".join(policy.severity_names))
                raise UsageError(f"Name a severity: one of {choices}.", usage=usage)
            return ChangeSeverity(severity, _free_text(parts[1] if len(parts) > 1 else ""), target)
        case "status":
            status = parse_status(rest) if rest.strip() else None
            if status is None:
                raise UsageError("Name the status.", usage=usage)
            if status is Status.RESOLVED:
                return Resolve("", target)
            return ChangeStatus(status, target)
        case "update":
            return _parse_update(rest, target, usage)
        case "note":
            if not rest.strip():
                raise UsageError("Write the note after `note`.", usage=usage)
            return AddNote(_free_text(rest), target)
        case "resolve":
            return Resolve(_free_text(rest) or None, target)
        case "reopen":
            return Reopen(_free_text(rest), target)
        case "page":
            who = rest.strip()
            if not who:
                raise UsageError("Say who to page: a person or a service.", usage=usage)
            if who.startswith("<@"):
                return PageSomeone(_user(who, usage), None, target)
            service = who.lower()
            if service not in policy.services:
                known = escape(", ".join(sorted(policy.services)) or "none are configured")
                raise UsageError(f"There is no service called {quoted(who)} ({known}).", usage=usage)
            return PageSomeone(None, service, target)
        case "followup":
            return _parse_follow_up(rest, target, usage)
        case "postmortem":
            if rest.strip().lower() == "done":
                return PostmortemDone(target)
            if rest.strip():
                raise UsageError("`postmortem` takes only `done` besides the incident.", usage=usage)
            return RegeneratePostmortem(target)
        case "runbook":
            return ShowRunbooks(plain_from_slack(rest).strip().lower() or None, target)
        case "summary":
            if rest.strip().lower() not in ("", "--share", "share"):
                raise UsageError("`summary` takes only `--share`.", usage=usage)
            return ShowSummary(bool(rest.strip()), target)
        case "public" | "private":
            if rest.strip():
                raise UsageError(f"`{name}` takes only the incident.", usage=usage)
            return ChangeVisibility(name == "private", target)
        case "timeline":
            page = parse_id(rest.strip() or "1")
            if page is None:
                raise UsageError("The page is a number.", usage=usage)
            return ShowTimeline(page, target)
    raise UsageError(f"I don't know the subcommand {quoted(name)}.", usage="/incident help")


def _parse_declare(rest: str, policy: Policy) -> Declare:
    private, incident_type, rest = _declare_flags(rest, policy)
    words = rest.split(maxsplit=1)
    severity = None
    if words and (named := severity_from_word(words[0], policy)) is not None:
        severity = named
        rest = words[1] if len(words) > 1 else ""
    elif words and _looks_like_severity(words[0]):
        choices = escape(", ".join(policy.severity_names))
        raise UsageError(
            f"{quoted(words[0], 20)} isn't a severity here; use one of {choices}.",
            usage="/incident " + _BY_NAME["declare"].usage,
        )
    kind = type_named(policy, incident_type)
    rest, given = take_assignments(rest, kind) if kind is not None else (rest, {})
    title = clean_title(plain_from_slack(rest)) if rest.strip() else None
    if kind is not None and title is not None:
        parse_given(kind, given)  # a wrong value is refused before anything is stored
    return Declare(title, severity, private, incident_type, tuple(given.items()))


def _declare_flags(rest: str, policy: Policy) -> tuple[bool, str | None, str]:
    """`--private` and `--type <name>` (in either order) before the rest of a declare."""
    private, incident_type = False, None
    while True:
        words = rest.split(maxsplit=1)
        if words and words[0].lower() in ("--private", "private") and not private:
            private, rest = True, words[1] if len(words) > 1 else ""
        elif words and words[0].lower() == "--type" and incident_type is None:
            parts = (words[1] if len(words) > 1 else "").split(maxsplit=1)
            named = parts[0].lower() if parts else ""
            if named not in policy.types:
                known = escape(", ".join(sorted(policy.types)) or "none are configured")
                raise UsageError(
                    f"{quoted(named or '(nothing)', 30)} isn't an incident type ({known}).",
                    usage="/incident " + _BY_NAME["declare"].usage,
                )
            incident_type, rest = named, parts[1] if len(parts) > 1 else ""
        else:
            return private, incident_type, rest


_PUBLIC_TITLE = re.compile(r'^--title\s+(?:"([^"]*)"|“([^”]*)”)(.*)$', re.DOTALL)


def _parse_update(rest: str, target: Target, usage: str) -> PostUpdate:
    """`<text>`, or `--public [--title "<title>"] <text>`: words for the status page instead."""
    words = rest.split(maxsplit=1)
    if not words or words[0].lower() != "--public":
        return PostUpdate(_free_text(rest) or None, target)
    text, title = (words[1] if len(words) > 1 else "").strip(), None
    if text.lower().startswith("--title"):
        quoted = _PUBLIC_TITLE.match(text)  # Slack escapes only &, < and >: the quotes arrive as typed
        if quoted is None:
            raise UsageError('Put the public title in quotes: `--title "Checkout is slow"`.', usage=usage)
        title, text = _free_text(quoted.group(1) or quoted.group(2) or "") or None, quoted.group(3)
    public = _free_text(text)
    if not public:
        raise UsageError("Write what customers should read after `--public`.", usage=usage)
    return PostUpdate(None, target, public=public, public_title=title)


def _parse_follow_up(rest: str, target: Target, usage: str) -> AddFollowUp:
    """`<text> [@owner] [due YYYY-MM-DD]`: the owner and due date may come in either order, at the end."""
    words = rest.split()
    owner: str | None = None
    due_on: date | None = None
    while words:
        if owner is None and (mention := _USER_MENTION.match(words[-1])):
            owner = mention.group(1)
            words.pop()
        elif due_on is None and len(words) >= 2 and words[-2].lower() == "due" and _ISO_DATE.match(words[-1]):
            try:
                due_on = date.fromisoformat(words[-1])
            except ValueError:
                raise UsageError(f"“{words[-1]}” isn't a date; write it as YYYY-MM-DD.", usage=usage) from None
            del words[-2:]
        else:
            break
    text = _free_text(" ".join(words))
    if not text:
        raise UsageError("Describe the action item.", usage=usage)
    return AddFollowUp(text, owner, due_on, target)


def _parse_stats(rest: str, usage: str, policy: Policy) -> ShowStats:
    words = rest.lower().split()
    share = "--share" in words
    types = [w.removeprefix("type=") for w in words if w.startswith("type=")]
    windows = [w for w in words if w != "--share" and not w.startswith("type=")]
    if len(windows) > 1 or (windows and windows[0] not in STATS_WINDOWS):
        raise UsageError("Choose a window: 30d, 90d or all (and --share to post it in the channel).", usage=usage)
    if len(types) > 1 or (types and types[0] not in policy.types):
        known = escape(", ".join(sorted(policy.types)) or "none are configured")
        raise UsageError(f"Name one incident type after `type=` ({known}).", usage=usage)
    return ShowStats(STATS_WINDOWS[windows[0]] if windows else 30, share, types[0] if types else None)


def severity_from_word(word: str, policy: Policy, *, bare_digits: bool = False) -> str | None:
    """`sev2`, `SEV-2` (or `2` where a severity is expected) or a policy severity's name → its name."""
    if (named := policy.severity_named(word)) is not None:
        return named.name
    match = _SEVERITY_WORD.match(word) or (re.match(r"^(\d)$", word) if bare_digits else None)
    if match:
        named = policy.severity_named(f"SEV{match.group(1)}")
        return named.name if named else None
    return None


def _take_target(rest: str) -> tuple[Target, str]:
    words = rest.split(maxsplit=1)
    if not words:
        return HERE, rest
    remainder = words[1] if len(words) > 1 else ""
    if (ref := INCIDENT_REF.match(words[0])) and words[0].lower().startswith("inc"):
        return Target(number=int(ref.group(1))), remainder
    if channel := _CHANNEL_MENTION.match(words[0]):
        return Target(channel_id=channel.group(1)), remainder
    return HERE, rest


def _user(text: str, usage: str) -> str:
    match = _USER_MENTION.match(text.strip())
    if not match:
        raise UsageError("Mention one person, e.g. @bob.", usage=usage)
    return match.group(1)


def _free_text(text: str) -> str:
    return plain_from_slack(text).strip()


def _looks_like_severity(word: str) -> bool:
    return bool(re.match(r"^sev[-_]?\w*$", word, re.IGNORECASE))
