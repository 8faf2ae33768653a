"""`/incident <subcommand> …` text into typed commands. Pure.

Slack sends the text escaped (`should_escape: true`): mentions arrive as `<@U123|name>`, channels as
`<#C123|name>`, and `&`, `<`, `>` as entities. Free text is stored as the plain text the person typed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from bot.errors import UsageError
from bot.incidents import INCIDENT_REF, Status, clean_title
from bot.lifecycle import parse_status
from bot.mrkdwn import plain_from_slack, quoted
from bot.numbers import parse_id
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
    Subcommand("ic", "ic @user", "make someone Incident Commander", True),
    Subcommand("comms", "comms @user", "make someone Communications Lead", True),
    Subcommand("role", "role <role> @user", "assign any role from the policy", True),
    Subcommand("sev", "sev <1-4> [reason]", "change severity", True),
    Subcommand("status", "status <investigating|identified|monitoring|resolved>", "move the lifecycle", True),
    Subcommand("update", "update <text>", "post a status update (no text: open the form)", True),
    Subcommand("note", "note <text>", "add a timeline entry", True),
    Subcommand("page", "page @user|<service>", "page someone or a service's on-call", True),
    Subcommand("oncall", "oncall [service]", "who is on call now, and the next handoff", True),
    Subcommand("resolve", "resolve [summary]", "resolve (no summary: open the form)", True),
    Subcommand("reopen", "reopen [reason]", "reopen a resolved incident", True),
    Subcommand("timeline", "timeline [page]", "show the timeline", True),
    Subcommand("followup", "followup <text> [@owner] [due YYYY-MM-DD]", "add an action item", True),
    Subcommand("followups", "followups [mine|open|INC-n]", "list action items, with a Done button", True),
    Subcommand(
        "postmortem", "postmortem [done]", "(re)generate the postmortem draft; `done` closes the incident", True
    ),
    Subcommand("runbook", "runbook [name]", "list the matching runbooks, or post the named one", True),
    Subcommand("list", "list", "open incidents", True),
    Subcommand("stats", "stats [30d|90d|all] [--share]", "MTTD, MTTA, MTTR by severity and friends", True),
    Subcommand("help", "help", "this list", True),
)
_BY_NAME = {s.name: s for s in SUBCOMMANDS}
_SEVERITY_WORD = re.compile(r"^sev[-_]?(\d)$", re.IGNORECASE)
_USER_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_CHANNEL_MENTION = re.compile(r"^<#(C[A-Z0-9]+)(?:\|[^>]*)?>$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
STATS_WINDOWS = {"30d": 30, "90d": 90, "all": None}
MAX_NOTE_LENGTH = 3000


@dataclass(frozen=True, slots=True)
class Target:
    """Which incident a command is about: named, or (all None) the channel it was typed in."""

    number: int | None = None
    channel_id: str | None = None


HERE = Target()


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
class AssignRole:
    """Give a role to someone."""

    role: str
    user_id: str
    target: Target = HERE


@dataclass(frozen=True, slots=True)
class ChangeSeverity:
    """Change severity, with an optional reason."""

    severity: str
    reason: str
    target: Target = HERE


@dataclass(frozen=True, slots=True)
class ChangeStatus:
    """Move the lifecycle (not to resolved: that is Resolve)."""

    status: Status
    target: Target = HERE


@dataclass(frozen=True, slots=True)
class PostUpdate:
    """A status update; no text means: open the update form."""

    text: str | None
    target: Target = HERE


@dataclass(frozen=True, slots=True)
class AddNote:
    """A timeline entry."""

    text: str
    target: Target = HERE


@dataclass(frozen=True, slots=True)
class Resolve:
    """Resolve; `summary=None` opens the resolve form."""

    summary: str | None
    target: Target = HERE


@dataclass(frozen=True, slots=True)
class Reopen:
    """Reopen a resolved incident."""

    reason: str
    target: Target = HERE


@dataclass(frozen=True, slots=True)
class ShowTimeline:
    """Show a page of the timeline."""

    page: int
    target: Target = HERE


@dataclass(frozen=True, slots=True)
class PageSomeone:
    """Page a person or a service's on-call."""

    user_id: str | None
    service: str | None
    target: Target = HERE


@dataclass(frozen=True, slots=True)
class ShowOnCall:
    """Who is on call (for one service, or every schedule)."""

    service: str | None


@dataclass(frozen=True, slots=True)
class ShowRunbooks:
    """List matching runbooks (name None) or post one."""

    name: str | None
    target: Target = HERE


@dataclass(frozen=True, slots=True)
class AddFollowUp:
    """An action item, optionally with an owner and a due date."""

    text: str
    owner: str | None
    due_on: date | None
    target: Target = HERE


@dataclass(frozen=True, slots=True)
class ListFollowUps:
    """Follow-ups: `mine` (open, mine), `open` (all open), or `incident` (the named or current incident's)."""

    scope: str
    target: Target = HERE


@dataclass(frozen=True, slots=True)
class RegeneratePostmortem:
    """Write the postmortem draft again from what is recorded now."""

    target: Target = HERE


@dataclass(frozen=True, slots=True)
class PostmortemDone:
    """The postmortem is written and reviewed: the incident's lifecycle ends."""

    target: Target = HERE


@dataclass(frozen=True, slots=True)
class ShowStats:
    """Incident metrics over the last `days` days (None: all time), privately or shared in the channel."""

    days: int | None
    share: bool


@dataclass(frozen=True, slots=True)
class NotYetAvailable:
    """A subcommand from the contract that this version does not do yet."""

    subcommand: Subcommand


Command = (
    Declare
    | Help
    | ListOpen
    | AssignRole
    | ChangeSeverity
    | ChangeStatus
    | PostUpdate
    | AddNote
    | Resolve
    | Reopen
    | ShowTimeline
    | PageSomeone
    | ShowOnCall
    | ShowRunbooks
    | AddFollowUp
    | ListFollowUps
    | RegeneratePostmortem
    | PostmortemDone
    | ShowStats
    | NotYetAvailable
)


def parse_command(text: str, policy: Policy) -> Command:
    """Parse the text after `/incident`; UsageError for anything not understood."""
    words = text.split(maxsplit=1)
    if not words:
        return Help()
    name, rest = words[0].lower(), (words[1] if len(words) > 1 else "")
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
            known = ", ".join(sorted(policy.services)) or "none are configured"
            raise UsageError(f"There is no service called {quoted(service)} ({known}).", usage=usage)
        return ShowOnCall(service)
    if name == "stats":
        return _parse_stats(rest, usage)
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
            role = policy.role(parts[0])
            if role is None:
                roles = ", ".join(r.aliases[0] if r.aliases else r.key for r in policy.roles)
                raise UsageError(f"{quoted(parts[0], 30)} isn't a role; use one of {roles}.", usage=usage)
            return AssignRole(role.key, _user(parts[1], usage), target)
        case "sev":
            parts = rest.split(maxsplit=1)
            severity = severity_from_word(parts[0], policy, bare_digits=True) if parts else None
            if severity is None:
                raise UsageError(f"Name a severity: one of {', '.join(policy.severity_names)}.", usage=usage)
            return ChangeSeverity(severity, _free_text(parts[1] if len(parts) > 1 else ""), target)
        case "status":
            status = parse_status(rest) if rest.strip() else None
            if status is None:
                raise UsageError("Name the status.", usage=usage)
            if status is Status.RESOLVED:
                return Resolve("", target)
            return ChangeStatus(status, target)
        case "update":
            return PostUpdate(_free_text(rest) or None, target)
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
                known = ", ".join(sorted(policy.services)) or "none are configured"
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
        case "timeline":
            page = parse_id(rest.strip() or "1")
            if page is None:
                raise UsageError("The page is a number.", usage=usage)
            return ShowTimeline(page, target)
    raise UsageError(f"I don't know the subcommand {quoted(name)}.", usage="/incident help")


def _parse_declare(rest: str, policy: Policy) -> Declare:
    words = rest.split(maxsplit=1)
    severity = None
    if words and (named := severity_from_word(words[0], policy)) is not None:
        severity = named
        rest = words[1] if len(words) > 1 else ""
    elif words and _looks_like_severity(words[0]):
        choices = ", ".join(policy.severity_names)
        raise UsageError(
            f"{quoted(words[0], 20)} isn't a severity here; use one of {choices}.",
            usage="/incident " + _BY_NAME["declare"].usage,
        )
    title = clean_title(plain_from_slack(rest)) if rest.strip() else None
    return Declare(title=title, severity=severity)


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


def _parse_stats(rest: str, usage: str) -> ShowStats:
    words = rest.lower().split()
    share = "--share" in words
    windows = [w for w in words if w != "--share"]
    if len(windows) > 1 or (windows and windows[0] not in STATS_WINDOWS):
        raise UsageError("Choose a window: 30d, 90d or all (and --share to post it in the channel).", usage=usage)
    return ShowStats(STATS_WINDOWS[windows[0]] if windows else 30, share)


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
