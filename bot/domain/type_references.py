"""What `tocsin check` finds wrong in what the policy names beyond itself: runbooks (of services and types)
no runbook file has, types' postmortem templates that cannot be read, parsed or rendered. (The checks within
the policy: type_policy.py; the policy's own template: bot/entrypoints/policy_check.py.)"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

import jinja2

from bot.domain.errors import ConfigError
from bot.domain.policy import Policy
from bot.domain.postmortem import PostmortemFacts, load_template, render_draft


def reference_problems(
    policy: Policy, *, runbooks: Collection[str] | None, sample: PostmortemFacts | None = None
) -> list[str]:
    """Each service's and type's runbooks that are not among `runbooks` (the library's names; None: the
    library could not be read, which is said already), and each type's postmortem template that cannot be
    read, has a syntax error or (given a `sample` incident to draft) names something a draft does not have."""
    found: list[str] = []
    have = ", ".join(sorted(runbooks or ())) or "none"
    for name, service in policy.services.items():
        for index, runbook in enumerate(service.runbooks):
            if runbooks is not None and runbook not in runbooks:
                found.append(f"services.{name}.runbooks[{index}]: no runbook is called {runbook!r} (there are: {have})")
    for name, kind in policy.types.items():
        for index, runbook in enumerate(kind.runbooks):
            if runbooks is not None and runbook not in runbooks:
                found.append(f"types.{name}.runbooks[{index}]: no runbook is called {runbook!r} (there are: {have})")
        if kind.postmortem_template is None:
            continue
        try:
            template = load_template(kind.postmortem_template)
            if sample is not None:
                typed = replace(sample, incident=replace(sample.incident, incident_type=name))
                render_draft(typed, policy, template=template)
        except ConfigError as exc:
            found.append(f"types.{name}.{exc}")
        except jinja2.TemplateError as exc:  # StrictUndefined: a variable the template names does not exist
            found.append(f"types.{name}.postmortem_template: {kind.postmortem_template}: {exc}")
    return found
