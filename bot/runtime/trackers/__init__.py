"""The tracker adapters, one module per kind, each speaking its tracker's own API (the `Tracker` port of
bot/usecases/tracker_ports.py, met structurally by TrackerClient).

`build_trackers` builds one per policy tracker through BUILDERS, keyed by the policy's `kind`. Adding a
kind is an import and an entry there: `build(name, config, *, http, environ, now?) -> (adapter | None,
problems)`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import aiohttp

from bot.domain.errors import ConfigError
from bot.domain.policy import Policy
from bot.runtime.trackers import github, gitlab, jira, linear
from bot.runtime.trackers.base import TrackerClient

Builder = Callable[..., tuple[TrackerClient | None, list[str]]]

# A kind's builder. Jira and Linear add theirs here: `from bot.runtime.trackers import jira, linear` and
# "jira": jira.build, "linear": linear.build.
BUILDERS: dict[str, Builder] = {
    "github": github.build,
    "gitlab": gitlab.build,
    "jira": jira.build,
    "linear": linear.build,
}


def build_trackers(
    policy: Policy, http: aiohttp.ClientSession, environ: Mapping[str, str], **extra: Any
) -> dict[str, TrackerClient]:
    """An adapter per policy tracker; ConfigError naming every credential variable unset."""
    built: dict[str, TrackerClient] = {}
    problems: list[str] = []
    for name, config in policy.trackers.items():
        builder = BUILDERS.get(config.kind)
        if builder is None:
            problems.append(f"trackers.{name}: the {config.kind} kind is not available in this build")
            continue
        adapter, missing = builder(name, config, http=http, environ=environ, **extra)
        problems += missing
        if adapter is not None:
            built[name] = adapter
    if problems:
        raise ConfigError("; ".join(problems))
    return built
