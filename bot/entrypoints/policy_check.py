"""`tocsin check`: everything wrong with a policy file at once, each with its file, line and key path —
the keys pydantic refuses, the mistakes YAML hides (an unquoted `#channel` is a comment, so the value is
empty), channel names Slack would refuse, the runbooks folder and its files, and the postmortem template
rendered against a sample incident. Needs no Slack and no network, so a CI pipeline can run it."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jinja2
import yaml
from pydantic import ValidationError

from bot.domain.errors import ConfigError
from bot.domain.incidents import Incident, RoleSpan, Status, TimelineEntry, TimelineKind
from bot.domain.policy import PROBLEM_SEPARATOR, Policy
from bot.domain.policy_file import describe_error, key_path, relative_to, runbooks_folder
from bot.domain.postmortem import PostmortemFacts, load_template, render_draft
from bot.domain.runbooks import RunbookLibrary

_CHANNEL = re.compile(r"^(#[a-z0-9_-]{1,80}|[CG][A-Z0-9]{2,})$")
_COMMENTED = re.compile(r"^\s*(?:-\s*)?(?:([A-Za-z_][\w-]*)\s*:\s*)?#(\S+)")
_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
CHANNEL_KEYS = ("broadcast_channel", "channel", "notify")
MAX_PASSES = 5


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: where (file and, when YAML gives one, line) and what is wrong (from its key path)."""

    where: str
    message: str

    def __str__(self) -> str:
        """`file:line: message`, as editors and CI logs link them."""
        return f"{self.where}: {self.message}"


def _at(file: str, line: int | None, message: str) -> Finding:
    return Finding(f"{file}:{line}" if line else file, message)


@dataclass
class Report:
    """What checking found: the policy (when it loads), what is in force, problems and warnings."""

    policy: Policy | None = None
    runbooks: list[str] = field(default_factory=list)
    runbooks_from: str = ""
    problems: list[Finding] = field(default_factory=list)


def check_policy_file(path: Path) -> Report:
    """Check the policy file at `path` and everything it points to."""
    report = Report()
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        report.problems.append(_at(source, None, f"cannot read it: {exc.strerror}"))
        return report
    try:
        lines = _key_lines(yaml.compose(text))
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "not valid YAML"
        report.problems.append(_at(source, mark.line + 1 if mark else None, f"not valid YAML: {problem}"))
        return report
    report.problems += _hidden_by_comments(text, data, source)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        report.problems.append(_at(source, 1, "the top level must be a mapping of keys"))
        return report
    policy, messages = _validate_all(data)
    report.problems += [_at(source, _line_for(m, lines), m) for m in messages]
    report.problems += _channel_names(data, source, lines)
    if policy is None:
        folder = data.get("runbooks_dir")
        if isinstance(folder, str) and not (path.parent / folder).is_dir():
            report.problems.append(_at(source, lines.get(("runbooks_dir",)), f"runbooks_dir: {folder} is not a folder"))
        return report
    report.policy = relative_to(policy, path.parent)
    _check_references(report, source, lines)
    return report


def _validate_all(data: dict[str, Any]) -> tuple[Policy | None, list[str]]:
    """Validate, and keep going past errors: the keys at fault are set aside and the rest validated
    again, so references (unknown schedules, services…) are checked too, and every problem is listed."""
    messages: list[str] = []
    data = copy.deepcopy(data)
    for _ in range(MAX_PASSES):
        try:
            policy = Policy.model_validate(data)
        except ValidationError as exc:
            removed = False
            for error in exc.errors():
                for message in describe_error(error).split(PROBLEM_SEPARATOR):  # type: ignore[arg-type]
                    if message not in messages:
                        messages.append(message)
                removed |= _remove(data, tuple(error["loc"]))
            if not removed:
                return None, messages
        else:
            return (None if messages else policy), messages
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
    report = Report(policy=policy)
    _check_references(report, source)
    return report


def _check_references(report: Report, source: str, lines: dict[tuple[Any, ...], int] | None = None) -> None:
    """The runbooks folder and files, and the postmortem template, of a loaded policy."""
    policy = report.policy
    assert policy is not None
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
        report.problems += [Finding(*str(p).split(": ", 1)) for p in library.problems()]
    try:
        template = load_template(policy.postmortem_template)
        render_draft(sample_facts(policy), policy, template=template)
    except ConfigError as exc:
        report.problems.append(_at(source, (lines or {}).get(("postmortem_template",)), str(exc)))
    except jinja2.TemplateError as exc:  # StrictUndefined: a variable the template names does not exist
        where = policy.postmortem_template or "the built-in template"
        report.problems.append(_at(source, None, f"postmortem_template: {where}: {exc}"))


def sample_facts(policy: Policy, now: datetime | None = None) -> PostmortemFacts:
    """A small, complete incident to render templates against."""
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
    timeline = [
        TimelineEntry(TimelineKind.DECLARED, declared, "U0SAMPLE1", "Declared: Checkout is failing"),
        TimelineEntry(TimelineKind.UPDATE, declared + timedelta(minutes=10), "U0SAMPLE1", "Rolling back"),
        TimelineEntry(TimelineKind.RESOLVED, declared + timedelta(hours=1), "U0SAMPLE1", "Rolled back the deploy"),
    ]
    roles = [RoleSpan("incident_commander", "U0SAMPLE1", declared)]
    return PostmortemFacts(incident=incident, timeline=timeline, roles=roles, generated_at=now)


def _hidden_by_comments(text: str, data: Any, source: str) -> list[Finding]:
    """`broadcast_channel: #incidents` or `- #leadership` unquoted: YAML reads a comment, so the value
    is empty and the channel silently unused."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _COMMENTED.match(line)
        if match is None or (match.group(1) is None and not line.lstrip().startswith("-")):
            continue
        key = match.group(1)
        if key is not None and key not in CHANNEL_KEYS:
            continue
        channel = "#" + match.group(2)
        what = f"{key}: {channel}" if key else f"- {channel}"
        found.append(
            _at(
                source,
                number,
                f'`{what}` reads as a YAML comment, so the value is empty; quote the channel: "{channel}"',
            )
        )
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
