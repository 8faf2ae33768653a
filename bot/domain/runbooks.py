"""Runbooks: Markdown files with YAML front matter whose `- [ ]` items are steps (headings group them).

Parsing, validation and matching are pure; `RunbookLibrary` reads the folder and re-reads it when a file
changes. A broken runbook is skipped at run time with a log line, never a crash.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.domain.policy import Policy

log = logging.getLogger(__name__)

_STEP = re.compile(r"^\s*[-*+]\s+\[( |x|X)\]\s+(.+?)\s*$")
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_WORD = re.compile(r"[a-z0-9]+")


class RunbookMeta(BaseModel):
    """The front matter."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1)
    services: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    severities: list[str] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Step:
    """One checklist item."""

    id: str  # "s1", "s2"… in file order
    text: str
    line: int


@dataclass(frozen=True, slots=True)
class Section:
    """A heading and the steps under it."""

    heading: str | None
    steps: tuple[Step, ...]


@dataclass(frozen=True, slots=True)
class Runbook:
    """A parsed runbook."""

    name: str
    meta: RunbookMeta
    sections: tuple[Section, ...]

    @property
    def steps(self) -> list[Step]:
        """Every step, in order."""
        return [step for section in self.sections for step in section.steps]


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with a runbook file, where it is."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        """`runbooks/x.md:3: message`."""
        return f"{self.file}:{self.line}: {self.message}"


class RunbookError(Exception):
    """A runbook that cannot be read."""

    def __init__(self, problem: Problem) -> None:
        """Keep the problem."""
        super().__init__(str(problem))
        self.problem = problem


def parse_runbook(name: str, text: str, *, file: str = "") -> Runbook:
    """Parse one runbook; RunbookError naming the line when it cannot be read."""
    where = file or f"{name}.md"
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise RunbookError(Problem(where, 1, "front matter missing: start the file with a '---' line"))
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise RunbookError(Problem(where, 1, "front matter is not closed with a '---' line")) from None
    try:
        data = yaml.safe_load("\n".join(lines[1:end])) or {}
        meta = RunbookMeta.model_validate(data)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise RunbookError(Problem(where, 2 + (mark.line if mark else 0), "front matter is not valid YAML")) from None
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(p) for p in error["loc"]) or "front matter"
        message = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
        raise RunbookError(
            Problem(where, _line_of(lines, end, str(error["loc"][0]) if error["loc"] else ""), f"{key}: {message}")
        ) from None
    sections: list[Section] = []
    heading: str | None = None
    steps: list[Step] = []
    count = 0
    for number, line in enumerate(lines[end + 1 :], start=end + 2):
        if match := _HEADING.match(line):
            if steps:
                sections.append(Section(heading, tuple(steps)))
            heading, steps = match.group(2), []
        elif match := _STEP.match(line):
            count += 1
            steps.append(Step(f"s{count}", match.group(2), number))
    if steps:
        sections.append(Section(heading, tuple(steps)))
    return Runbook(name=name, meta=meta, sections=tuple(sections))


def _line_of(lines: list[str], end: int, key: str) -> int:
    for index in range(1, end):
        if key and lines[index].lstrip().startswith(f"{key}:"):
            return index + 1
    return 2


def validate(runbook: Runbook, policy: Policy, *, file: str) -> list[Problem]:
    """What is wrong with a parsed runbook under this policy: no steps, unknown services or severities."""
    problems = []
    if not runbook.steps:
        problems.append(Problem(file, 1, "no steps: write them as '- [ ] …' lines"))
    for service in runbook.meta.services:
        if service not in policy.services:
            problems.append(Problem(file, 2, f"services: unknown service {service!r}"))
    for severity in runbook.meta.severities:
        if policy.severity_named(severity) is None:
            problems.append(Problem(file, 2, f"severities: {severity!r} is not a severity"))
    if not _NAME.match(runbook.name):
        problems.append(Problem(file, 1, "file name must be lowercase letters, digits, - and _"))
    return problems


def matches(
    runbook: Runbook,
    *,
    title: str,
    service: str | None,
    severity: str,
    policy: Policy,
    incident_type: str | None = None,
) -> bool:
    """Whether a runbook applies: the service links it (either way), the incident's type lists it, or a
    keyword is in the title, and the severity is one it lists (if it lists any); a runbook with only
    severities applies to all of them."""
    meta = runbook.meta
    linked = service is not None and (
        service in meta.services
        or runbook.name in (policy.services[service].runbooks if service in policy.services else [])
    )
    kind = policy.types.get(incident_type) if incident_type else None
    linked = linked or (kind is not None and runbook.name in kind.runbooks)
    words = set(_WORD.findall(title.lower()))
    keyword = any(
        (k.lower() in words) if _WORD.fullmatch(k.lower()) else (k.lower() in title.lower()) for k in meta.keywords
    )
    severity_ok = not meta.severities or any(s.upper() == severity.upper() for s in meta.severities)
    if linked or keyword:
        return severity_ok
    return bool(meta.severities) and not meta.services and not meta.keywords and severity_ok


@dataclass
class RunbookLibrary:
    """The runbooks folder, re-read when a file in it changes."""

    folder: Path
    policy: Policy
    _signature: tuple[tuple[str, float], ...] = ()
    _runbooks: dict[str, Runbook] = field(default_factory=dict)
    _problems: list[Problem] = field(default_factory=list)

    def all(self) -> dict[str, Runbook]:
        """Every readable, valid runbook by name."""
        self._refresh()
        return dict(self._runbooks)

    def problems(self) -> list[Problem]:
        """Every problem found in the folder."""
        self._refresh()
        return list(self._problems)

    def matching(
        self, *, title: str, service: str | None, severity: str, incident_type: str | None = None
    ) -> list[Runbook]:
        """The runbooks that apply to an incident, by name."""
        return [
            r
            for r in self.all().values()
            if matches(
                r, title=title, service=service, severity=severity, policy=self.policy, incident_type=incident_type
            )
        ]

    def _refresh(self) -> None:
        files = sorted(self.folder.glob("*.md")) if self.folder.is_dir() else []
        signature = tuple((str(f), f.stat().st_mtime) for f in files)
        if signature == self._signature:
            return
        self._signature = signature
        self._runbooks, self._problems = {}, []
        for path in files:
            if path.name.lower() == "readme.md":
                continue
            file = str(path)
            try:
                runbook = parse_runbook(path.stem, path.read_text(encoding="utf-8"), file=file)
            except RunbookError as exc:
                self._problems.append(exc.problem)
                log.warning("runbook skipped: %s", exc.problem)
                continue
            except OSError as exc:
                self._problems.append(Problem(file, 1, f"cannot read: {exc.strerror}"))
                continue
            problems = validate(runbook, self.policy, file=file)
            if problems:
                self._problems.extend(problems)
                for problem in problems:
                    log.warning("runbook skipped: %s", problem)
                continue
            self._runbooks[runbook.name] = runbook
