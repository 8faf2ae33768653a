"""`tocsin check`: everything wrong with a policy file at once, in line order, each with its file, line
and key path — the keys pydantic refuses, the mistakes YAML hides (an unquoted `#channel` is a comment,
so the value is empty or cut short), channel names Slack would refuse, the runbooks folder and its
files and the runbooks services name, and the postmortem template rendered against a sample incident
that has every part a template can loop over. Needs no Slack and no network, so a CI pipeline can run
it; with `--slack` it also asks Slack whether every user and user group the policy names exists, and with
the settings, whether each webhook's secret variable holds a signing secret."""

from __future__ import annotations

import asyncio
import copy
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jinja2
import yaml
from pydantic import ValidationError

from bot.domain.errors import ConfigError
from bot.domain.follow_ups import FollowUp
from bot.domain.incidents import Incident, RoleSpan, Status, TimelineEntry, TimelineKind
from bot.domain.policy import PROBLEM_SEPARATOR, SHAPE_ONLY, Policy
from bot.domain.policy_file import describe_error, key_path, relative_to, runbooks_folder
from bot.domain.policy_users import groups_named, users_named
from bot.domain.postmortem import PostmortemFacts, load_template, render_draft
from bot.domain.runbooks import RunbookLibrary
from bot.domain.tracker_policy import tracker_problems
from bot.domain.type_references import reference_problems
from bot.domain.user_refs import AS_WRITTEN
from bot.domain.webhook_policy import host_of, secret_problem

_CHANNEL = re.compile(r"^(#[a-z0-9_-]{1,80}|[CG][A-Z0-9]{2,})$")
_CUT_AT = re.compile(r"^\s*#(\S.*)$")  # what follows a plain value: a comment begun with `#word`
_STR_TAG = "tag:yaml.org,2002:str"
_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
CHANNEL_KEYS = ("broadcast_channel", "channel", "notify")
MAX_PASSES = 5


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: where (file and, when YAML gives one, line) and what is wrong (from its key path)."""

    where: str
    message: str
    line: int | None = None  # in the policy file

    def __str__(self) -> str:
        """`file:line: message`, as editors and CI logs link them."""
        return f"{self.where}: {self.message}"


def _at(file: str, line: int | None, message: str) -> Finding:
    return Finding(f"{file}:{line}" if line else file, message, line)


@dataclass
class Report:
    """What checking found: the policy (when it loads), what is in force, problems and warnings."""

    policy: Policy | None = None
    runbooks: list[str] = field(default_factory=list)
    runbooks_from: str = ""
    problems: list[Finding] = field(default_factory=list)
    source: str = ""
    lines: dict[tuple[Any, ...], int] = field(default_factory=dict)  # the policy file's key paths

    def sort(self) -> None:
        """The policy file's problems in line order (those without a line after), then other files'."""
        ours = [p.where == self.source or p.where.startswith(f"{self.source}:") for p in self.problems]
        first = [p for p, mine in zip(self.problems, ours, strict=True) if mine]
        rest = [p for p, mine in zip(self.problems, ours, strict=True) if not mine]
        self.problems = sorted(first, key=lambda p: p.line or 1 << 30) + rest


def check_policy_file(path: Path) -> Report:
    """Check the policy file at `path` and everything it points to."""
    report = Report(source=str(path))
    source = report.source
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        report.problems.append(_at(source, None, f"cannot read it: {exc.strerror}"))
        return report
    try:
        root = yaml.compose(text)
        lines = report.lines = _key_lines(root)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "not valid YAML"
        report.problems.append(_at(source, mark.line + 1 if mark else None, f"not valid YAML: {problem}"))
        return report
    report.problems += _cut_by_comments(root, text.splitlines(), source)
    _check_all(report, path, data, lines)
    report.sort()
    return report


def _check_all(report: Report, path: Path, data: Any, lines: dict[tuple[Any, ...], int]) -> None:
    source = report.source
    if data is None:
        data = {}
    if not isinstance(data, dict):
        report.problems.append(_at(source, 1, "the top level must be a mapping of keys"))
        return
    policy, messages = _validate_all(data)
    report.problems += [_at(source, _line_for(m, lines), m) for m in messages]
    report.problems += _channel_names(data, source, lines)
    if policy is None:
        folder = data.get("runbooks_dir")
        if isinstance(folder, str) and not (path.parent / folder).is_dir():
            report.problems.append(_at(source, lines.get(("runbooks_dir",)), f"runbooks_dir: {folder} is not a folder"))
        return
    checked = relative_to(policy, path.parent)
    if not messages:
        report.policy = checked
    _check_references(report, source, lines, checked)  # what did validate, even when other keys did not


def _validate_all(data: dict[str, Any]) -> tuple[Policy | None, list[str]]:
    """Validate, and keep going past errors: the keys at fault are set aside and the rest validated
    again, so references (unknown schedules, services…) are checked too, and every problem is listed.
    The policy is what validated in the end (without the keys set aside) when anything did."""
    messages: list[str] = []
    data = copy.deepcopy(data)
    set_aside: set[tuple[Any, ...]] = set()
    # A user in a list cannot be set aside without renumbering the rest: a second look takes users and
    # targets as written, to reach the checks that need the whole policy (unknown schedules, grants…).
    for context in ({}, {AS_WRITTEN: True}):
        for _ in range(MAX_PASSES):
            try:
                policy = Policy.model_validate(data, context=context)
            except ValidationError as exc:
                removed = False
                for error in exc.errors():
                    location = tuple(error["loc"])
                    if error["type"] == "missing" and location in set_aside:  # said already: set aside its holder
                        removed |= any(_remove(data, location[:cut]) for cut in range(len(location) - 1, 0, -1))
                        continue
                    for message in describe_error(error).split(PROBLEM_SEPARATOR):  # type: ignore[arg-type]
                        if message not in messages:
                            messages.append(message)
                    if _remove(data, location):
                        set_aside.add(location)
                        removed = True
                if not removed:
                    break
            else:
                return policy, messages
    try:  # the keys that are fine on their own, for the checks of what they point to (runbooks, template)
        return Policy.model_validate(data, context={AS_WRITTEN: True, SHAPE_ONLY: True}), messages
    except ValidationError:
        return None, messages


def _remove(data: Any, location: tuple[Any, ...]) -> bool:
    """Delete the value at `location` (a pydantic error's loc); whether anything was deleted."""
    if not location:
        return False
    parent = data
    for part in location[:-1]:
        try:
            parent = parent[part]
        except (KeyError, IndexError, TypeError):
            return False
    if isinstance(parent, dict) and location[-1] in parent:
        del parent[location[-1]]
        return True
    return False


def check_policy(policy: Policy, source: str) -> Report:
    """Check the built-in defaults (no file): runbooks and template."""
    report = Report(policy=policy, source=source)
    _check_references(report, source, None, policy)
    report.sort()
    return report


def _check_references(report: Report, source: str, lines: dict[tuple[Any, ...], int] | None, policy: Policy) -> None:
    """The runbooks folder and files, the runbooks services and types name, and the postmortem templates."""
    known: Collection[str] | None = None  # the runbooks there are (None: the folder cannot be read)
    try:
        folder, report.runbooks_from = runbooks_folder(policy)
    except ConfigError as exc:
        report.problems.append(_at(source, (lines or {}).get(("runbooks_dir",)), str(exc)))
    else:
        library = RunbookLibrary(folder, policy)
        report.runbooks = [
            f"{name}: {r.meta.title} ({len(r.steps)} steps)" for name, r in sorted(library.all().items())
        ]
        report.runbooks_from = f"{folder} ({report.runbooks_from})"
        for problem in library.problems():
            where, message = str(problem).split(": ", 1)
            report.problems.append(Finding(where, message))
        known = library.all()
    found = tracker_problems(policy) + reference_problems(policy, runbooks=known, sample=sample_facts(policy))
    report.problems += [_at(source, _line_for(p, lines or {}), p) for p in found]
    template_line = (lines or {}).get(("postmortem_template",))
    try:
        template = load_template(policy.postmortem_template)
        render_draft(sample_facts(policy), policy, template=template)
    except ConfigError as exc:
        report.problems.append(_at(source, template_line, str(exc)))
    except jinja2.TemplateError as exc:  # StrictUndefined: a variable the template names does not exist
        where = policy.postmortem_template or "the built-in template"
        report.problems.append(_at(source, template_line, f"postmortem_template: {where}: {exc}"))


def sample_facts(policy: Policy, now: datetime | None = None) -> PostmortemFacts:
    """A small incident with every part a template can loop over (severity changes, updates, pinned
    messages, follow-ups open, overdue and done), so a misspelt name inside a loop is caught too."""
    now = now or datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    declared = now - timedelta(hours=2)
    incident = Incident(
        id=1,
        team_id="T0SAMPLE",
        number=1,
        title="Checkout is failing",
        severity=policy.default_severity,
        status=Status.RESOLVED,
        declared_by="U0SAMPLE1",
        declared_at=declared,
        description="Card payments fail with 502",
        channel_id="C0SAMPLE",
        channel_name="inc-1-checkout-is-failing",
        roles={"incident_commander": "U0SAMPLE1"},
        acknowledged_at=declared + timedelta(minutes=3),
        acknowledged_by="U0SAMPLE2",
        mitigated_at=declared + timedelta(minutes=40),
        resolved_at=declared + timedelta(hours=1),
        resolution_summary="Rolled back the deploy",
        customer_impact="Card payments failed for 40 minutes",
        cause="A connection pool too small for peak traffic",
    )
    names = policy.severity_names
    first, then = names[-1], names[0]
    link = "https://example.slack.com/archives/C0SAMPLE/p1767607200000100"
    timeline = [
        TimelineEntry(TimelineKind.DECLARED, declared, "U0SAMPLE1", "Declared: Checkout is failing"),
        TimelineEntry(TimelineKind.SEVERITY_CHANGED, declared + timedelta(minutes=5), "U0SAMPLE1", f"{first} → {then}"),
        TimelineEntry(
            TimelineKind.SEVERITY_CHANGED,
            declared + timedelta(minutes=6),
            "U0SAMPLE2",
            f"{then} → {policy.default_severity}: fewer customers than feared",
        ),
        TimelineEntry(TimelineKind.UPDATE, declared + timedelta(minutes=10), "U0SAMPLE1", "Rolling back"),
        TimelineEntry(TimelineKind.NOTE, declared + timedelta(minutes=12), "U0SAMPLE2", "Pool at 100%", permalink=link),
        TimelineEntry(TimelineKind.RESOLVED, declared + timedelta(hours=1), "U0SAMPLE1", "Rolled back the deploy"),
    ]
    roles = [RoleSpan("incident_commander", "U0SAMPLE1", declared)]
    follow_ups = [
        FollowUp(1, 1, 1, "Raise the pool size", "U0SAMPLE2", now.date() + timedelta(days=7), "U0SAMPLE1", now),
        FollowUp(2, 1, 1, "Alert on pool use", None, now.date() - timedelta(days=1), "U0SAMPLE1", now),
        FollowUp(3, 1, 1, "Write the runbook", "U0SAMPLE1", None, "U0SAMPLE1", now, done_at=now, done_by="U0SAMPLE1"),
    ]
    return PostmortemFacts(
        incident=incident,
        timeline=timeline,
        roles=roles,
        follow_ups=follow_ups,
        channel_url="https://example.slack.com/archives/C0SAMPLE",
        generated_at=now,
    )


def _cut_by_comments(root: yaml.Node | None, text: list[str], source: str) -> list[Finding]:
    """Values YAML cut at a ` #`: unquoted, `notice: contact #security` is `contact` and a comment, and
    `broadcast_channel: #incidents` is empty. A comment is written `# text`, so a `#` followed at once by
    a word, after a value that is a string (or nothing), is taken for part of the value."""
    found = []
    for path, node in _plain_values(root):
        rest = text[node.end_mark.line][node.end_mark.column :] if node.end_mark.line < len(text) else ""
        match = _CUT_AT.match(rest)
        if match is None or not (node.tag == _STR_TAG or node.value == ""):  # `key: null #x` means null
            continue
        cut = f"#{match.group(1).rstrip()}"
        key = path[-1] if path and isinstance(path[-1], str) else None
        written = f"{key}: " if key else "- "
        if not node.value and (key is None or key in CHANNEL_KEYS):
            channel = cut.split()[0]
            message = f"`{written}{channel}` reads as a YAML comment, so the value is empty; "
            message += f'quote the channel: "{channel}"'
        else:
            whole = f"{node.value} {cut}" if node.value else cut
            value = f"cut to {node.value!r}" if node.value else "empty"
            message = (
                f"{key_path(path)}: YAML reads `{cut.split()[0]}…` as a comment, so the value is {value}; "
                f'quote it: {written}"{whole}" (a comment is written with a space: # {match.group(1).split()[0]})'
            )
        found.append(_at(source, node.end_mark.line + 1, message))
    return found


def _plain_values(node: yaml.Node | None, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], yaml.ScalarNode]]:
    """Every unquoted scalar value in a composed document, with its key path."""
    if isinstance(node, yaml.ScalarNode):
        return [(path, node)] if node.style is None and path else []
    found = []
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            found += _plain_values(value, (*path, key.value))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            found += _plain_values(item, (*path, index))
    return found


def _channel_names(data: dict[str, Any], source: str, lines: dict[tuple[Any, ...], int]) -> list[Finding]:
    """Channels Slack would refuse: `#name` in lowercase letters, digits, `-` and `_`, or an ID. Read from
    the file as written, so they are checked even when other keys are wrong."""
    named: list[tuple[tuple[Any, ...], Any]] = [(("broadcast_channel",), data.get("broadcast_channel"))]
    for index, severity in enumerate(_items(data.get("severities"))):
        notify = severity.get("notify") if isinstance(severity, dict) else None
        named += [(("severities", index, "notify", n), c) for n, c in enumerate(_items(notify))]
    alerts: dict[str, Any] = data["alerts"] if isinstance(data.get("alerts"), dict) else {}
    for index, route in enumerate(_items(alerts.get("routes"))):
        named.append(
            (("alerts", "routes", index, "channel"), route.get("channel") if isinstance(route, dict) else None)
        )
    default = alerts.get("default")
    named.append((("alerts", "default", "channel"), default.get("channel") if isinstance(default, dict) else None))
    problems = []
    for path, channel in named:
        if isinstance(channel, str) and not _CHANNEL.match(channel):
            where = lines.get(path) or lines.get(path[:-1])
            message = f"{key_path(path)}: {channel!r} is not a Slack channel (write #name in lowercase, or an ID)"
            problems.append(_at(source, where, message))
    return problems


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _key_lines(node: yaml.Node | None, path: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], int]:
    """Every key path in a composed YAML document, with the line it starts on."""
    lines: dict[tuple[Any, ...], int] = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            here = (*path, key.value)
            lines[here] = key.start_mark.line + 1
            lines.update(_key_lines(value, here))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            here = (*path, index)
            lines[here] = item.start_mark.line + 1
            lines.update(_key_lines(item, here))
    return lines


def _line_for(message: str, lines: dict[tuple[Any, ...], int]) -> int | None:
    """The line of the longest key path a message starts with (`a.b[0].c: …`)."""
    head = message.split(":", 1)[0]
    parts: list[Any] = [int(m.group(2)) if m.group(2) else m.group(1) for m in _PATH_PART.finditer(head)]
    while parts:
        if tuple(parts) in lines:
            return lines[tuple(parts)]
        parts.pop()
    return None


def check_webhook_secrets(report: Report, environ: Mapping[str, str]) -> list[str]:
    """With the settings: a line per webhook saying where it goes, its subscriber's name (the metrics'
    label) and whether its secret variable holds a `whsec_` secret (if not, a problem too). Shows no secret."""
    lines = []
    for number, target in enumerate(report.policy.webhooks if report.policy else []):
        problem = secret_problem(environ.get(target.secret_env, ""))
        state = f"{target.secret_env} {problem or 'is set to a whsec_ secret'}"
        lines.append(f"webhooks[{number}]: {host_of(target.url)} (subscriber {target.name}): {state}")
        if problem is not None:
            path = ("webhooks", number, "secret_env")
            report.problems.append(_at(report.source, report.lines.get(path), f"{key_path(path)}: {state}"))
    report.sort()
    return lines


async def check_in_slack(report: Report, *, token: str, api_url: str) -> None:
    """`tocsin check --slack`: every user the policy names must be an active Slack user (an e-mail
    address someone's), and every user group must exist. Adds what is not to the report's problems."""
    import aiohttp  # imported here: without --slack, `tocsin check` loads no Slack client at all

    from bot.runtime.metrics import Metrics
    from bot.slack.gateway import SlackGateway, slack_error
    from bot.slack.web_client import build_web_client
    from bot.usecases.directory import UserDirectory
    from bot.usecases.ports import utc_now

    policy = report.policy
    if policy is None:  # the problems already listed come first
        return
    named, groups = users_named(policy), groups_named(policy)
    async with aiohttp.ClientSession() as session:
        client = build_web_client(token=token, base_url=api_url, session=session, metrics=Metrics())
        slack = SlackGateway(client, session)
        directory = UserDirectory(slack=slack, policy=policy, clock=utc_now)
        unique = list(dict.fromkeys(ref for _, ref in named))
        answers = dict(zip(unique, await directory.resolve_all(unique, verify_ids=True), strict=True))
        members = await asyncio.gather(*(slack.group_members(g) for _, g in groups), return_exceptions=True)
    for path, ref in named:
        if answers[ref].user_id is None:
            message = f"{key_path(path)}: {ref}: {answers[ref].problem}"
            report.problems.append(_at(report.source, report.lines.get(path), message))
    for (path, group), found in zip(groups, members, strict=True):
        if isinstance(found, BaseException):
            message = f"{key_path(path)}: group:{group}: Slack said {slack_error(found)}"
            report.problems.append(_at(report.source, report.lines.get(path), message))
    report.sort()
