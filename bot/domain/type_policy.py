"""The policy's incident types (`types:`): each may set defaults for its incidents (severity, privacy, roles
to fill, runbooks, escalation policy, postmortem template, stakeholder channels, call bridge) and has its
own fields, asked at declare or at resolve. Pure.

```yaml
types:
  security:
    description: A suspected breach or vulnerability
    default_severity: SEV2
    private: true
    roles: [tech_lead]
    escalation_policy: security
    page_on_declare: [SEV1, SEV2]
    notify: ["#security-leads"]
    fields:
      - {name: ticket, label: Ticket, kind: url}
      - {name: data-exposed, kind: select, options: ["yes", "no", unknown], required: true}
      - {name: root-cause, kind: text, required: true, when: resolve}
```
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from bot.domain.context_policy import BridgePolicy
from bot.domain.policy_base import StrictModel

if TYPE_CHECKING:  # a type only: the policy holds these sections
    from bot.domain.policy import Policy

FieldKind = Literal["text", "number", "select", "multi_select", "user", "url", "date"]
SELECT_KINDS = frozenset({"select", "multi_select"})
# A type's and a field's name is a word of `/incident declare --type <name>` and `/incident field <name>`.
NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
MAX_OPTIONS = 100  # a static_select's options (Block Kit)
MAX_OPTION = 75  # an option's text (Block Kit)
MAX_FIELDS = 20  # fields a type may have: each is a block of the declare form or a line of the header


class FieldSpec(StrictModel):
    """One field of an incident type: what it holds, and whether (and when) it must be filled in."""

    name: str
    label: str | None = None  # as people read it; the name, capitalised, when unset
    kind: FieldKind = "text"
    options: list[str] = Field(default_factory=list)  # the choices of a select or multi_select
    required: bool = False
    when: Literal["declare", "resolve"] = "declare"  # asked in the declare form, or required to resolve
    description: str = ""  # the hint shown under the field in forms

    @property
    def title(self) -> str:
        """The field's label as people read it."""
        return self.label or self.name.replace("_", " ").replace("-", " ").capitalize()


class IncidentType(StrictModel):
    """An incident type: the defaults it gives its incidents, and its fields."""

    description: str = ""
    default_severity: str | None = None  # declarations of this type start here unless they name one
    private: bool | None = None  # true: private unless declared otherwise; None: the usual defaults
    roles: list[str] = Field(default_factory=list)  # role keys this type's incidents should fill (shown as wanted)
    runbooks: list[str] = Field(default_factory=list)  # runbooks that go with this type
    escalation_policy: str | None = None  # whom to page for this type's incidents
    page_on_declare: list[str] = Field(default_factory=list)  # severities whose declare pages it (over the service)
    postmortem_template: str | None = None  # this type's own postmortem template (a Jinja2 Markdown file)
    notify: list[str] = Field(default_factory=list)  # stakeholder channels told of this type's incidents
    bridge: BridgePolicy | None = None  # this type's call (over the service's, the severity's and the policy's)
    fields: list[FieldSpec] = Field(default_factory=list)

    def field(self, name: str) -> FieldSpec | None:
        """The field called `name` (case-insensitive), or None."""
        wanted = name.strip().lower()
        return next((f for f in self.fields if f.name == wanted), None)

    def fields_at(self, when: Literal["declare", "resolve"]) -> list[FieldSpec]:
        """The fields asked at `when`."""
        return [f for f in self.fields if f.when == when]


IncidentTypes = dict[str, IncidentType]


def type_named(policy: Policy, name: str | None) -> IncidentType | None:
    """The policy's type called `name` (case-insensitive), or None."""
    if name is None:
        return None
    return policy.types.get(name.strip().lower())


def declare_paging(incident_type: str | None, severity: str, policy: Policy) -> str | None:
    """The escalation policy a declare of this type at `severity` pages (its `page_on_declare`), or None.
    When it pages, the service's own page on declare is left out: the type's policy is paged instead."""
    kind = type_named(policy, incident_type)
    if kind is None or kind.escalation_policy not in policy.escalation_policies:
        return None
    return kind.escalation_policy if any(s.upper() == severity.upper() for s in kind.page_on_declare) else None


def type_title(name: str) -> str:
    """A type's name as people read it: `customer-facing` → Customer facing (plain text)."""
    return name.replace("_", " ").replace("-", " ").capitalize()


def problems(policy: Policy) -> list[str]:
    """What in the policy's types names something the rest of the policy does not have, or cannot work as
    written (runbooks and template files are checked by `tocsin check`: type_references.py)."""
    found: list[str] = []
    roles = {r.key for r in policy.roles}
    for name, kind in policy.types.items():
        where = f"types.{name}"
        if not NAME.match(name):
            found.append(f"{where}: a type's name is one lowercase word (a-z, 0-9, - and _), e.g. customer-facing")
        if kind.default_severity is not None and policy.severity_named(kind.default_severity) is None:
            found.append(f"{where}.default_severity: {kind.default_severity!r} is not a severity")
        for role in kind.roles:
            if role not in roles:
                found.append(f"{where}.roles: {role!r} is not a role key ({', '.join(sorted(roles))})")
        if kind.escalation_policy and kind.escalation_policy not in policy.escalation_policies:
            found.append(f"{where}.escalation_policy: unknown escalation policy {kind.escalation_policy!r}")
        for severity in kind.page_on_declare:
            if policy.severity_named(severity) is None:
                found.append(f"{where}.page_on_declare: {severity!r} is not a severity")
        if kind.page_on_declare and not kind.escalation_policy:
            found.append(f"{where}.page_on_declare: the type has no escalation_policy to page")
        found += _field_problems(where, kind)
    return found


def _field_problems(where: str, kind: IncidentType) -> list[str]:
    found: list[str] = []
    if len(kind.fields) > MAX_FIELDS:
        found.append(f"{where}.fields: at most {MAX_FIELDS} fields a type")
    seen: set[str] = set()
    for index, spec in enumerate(kind.fields):
        at = f"{where}.fields[{index}]"
        if not NAME.match(spec.name):
            found.append(
                f"{at}.name: {spec.name!r} must be one lowercase word (a-z, 0-9, - and _) to be typed as "
                "`/incident field <name> <value>`"
            )
        if spec.name in seen:
            found.append(f"{at}.name: {spec.name!r} is used twice; field names are unique within a type")
        seen.add(spec.name)
        if spec.kind in SELECT_KINDS:
            if not spec.options:
                found.append(f"{at}.options: a {spec.kind} field needs its options")
            elif len(spec.options) > MAX_OPTIONS:
                found.append(f"{at}.options: at most {MAX_OPTIONS} options")
            if len(set(spec.options)) != len(spec.options):
                found.append(f"{at}.options: each option once")
            for option in spec.options:
                if not option.strip() or len(option) > MAX_OPTION or "," in option:
                    found.append(f"{at}.options: {option!r} must be 1 to {MAX_OPTION} characters, without commas")
        elif spec.options:
            found.append(f"{at}.options: only select and multi_select fields have options")
    return found
