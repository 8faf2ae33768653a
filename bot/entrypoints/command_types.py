"""What `/incident` can be asked: the subcommand table (usage and help) and one typed record per
command, which the parser (command_parser.py) builds and the slash-command listener dispatches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.domain.incidents import HERE, Status, Target


@dataclass(frozen=True, slots=True)
class Subcommand:
    """What `help` says of a subcommand, and whether this version does it yet."""

    name: str
    usage: str
    summary: str
    available: bool


SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand(
        "declare",
        "declare [--private] [--type <type>] [sev1-4] <title> [field=value…]",
        "declare an incident (no title: open the form)",
        True,
    ),
    Subcommand("ic", "ic @user", "make someone Incident Commander", True),
    Subcommand("comms", "comms @user", "make someone Communications Lead", True),
    Subcommand("role", "role <role> @user", "assign any role from the policy", True),
    Subcommand("sev", "sev <1-4> [reason]", "change severity", True),
    Subcommand("status", "status <investigating|identified|monitoring|resolved>", "move the lifecycle", True),
    Subcommand(
        "update",
        'update [--public [--title "<public title>"]] <text>',
        "post a status update (no text: open the form); `--public`: post it to the status page instead",
        True,
    ),
    Subcommand("note", "note <text>", "add a timeline entry", True),
    Subcommand("page", "page @user|<service>", "page someone or a service's on-call", True),
    Subcommand("oncall", "oncall [service]", "who is on call now, and the next handoff", True),
    Subcommand("resolve", "resolve [summary]", "resolve (no summary: open the form)", True),
    Subcommand("reopen", "reopen [reason]", "reopen a resolved incident", True),
    Subcommand("timeline", "timeline [page]", "show the timeline", True),
    Subcommand("summary", "summary [--share]", "catch up: status, roles, last update, recent events", True),
    Subcommand("public", "public", "make a private incident public (its IC)", True),
    Subcommand("private", "private", "(a public incident stays public: declare a private one)", True),
    Subcommand("followup", "followup <text> [@owner] [due YYYY-MM-DD]", "add an action item", True),
    Subcommand("followups", "followups [mine|open|INC-n]", "list action items, with a Done button", True),
    Subcommand(
        "postmortem", "postmortem [done]", "(re)generate the postmortem draft; `done` closes the incident", True
    ),
    Subcommand("runbook", "runbook [name]", "list the matching runbooks, or post the named one", True),
    Subcommand("list", "list", "open incidents", True),
    Subcommand(
        "stats", "stats [30d|90d|all] [type=<type>] [--share]", "MTTD, MTTA, MTTR by severity and friends", True
    ),
    Subcommand("help", "help", "this list", True),
)


@dataclass(frozen=True, slots=True)
class Declare:
    """Declare an incident; no title means: open the declare form."""

    title: str | None
    severity: str | None
    private: bool = False  # `--private`: a private channel, and nothing about it leaves it
    incident_type: str | None = None  # `--type <name>`: a `types:` name of the policy
    fields: tuple[tuple[str, str], ...] = ()  # the type's `name=value` words, as typed


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
    """A status update; no text (and nothing public) means: open the update form. `public`: words for the
    status page (`--public`), with an optional public title."""

    text: str | None
    target: Target = HERE
    public: str | None = None
    public_title: str | None = None


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
    incident_type: str | None = None  # `type=<name>`: only incidents of this type


@dataclass(frozen=True, slots=True)
class ShowSummary:
    """What someone joining needs to know, privately or shared in the channel."""

    share: bool
    target: Target = HERE


@dataclass(frozen=True, slots=True)
class ChangeVisibility:
    """Make an incident public (`private` False) or private."""

    private: bool
    target: Target = HERE


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
    | ShowSummary
    | ChangeVisibility
    | NotYetAvailable
)
