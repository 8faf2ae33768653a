"""`tocsin check --trackers`: each policy tracker tried with its credentials, one line each saying what
they can and cannot do (read the project, write its issues, verify webhooks), or what is missing."""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp

from bot.domain.policy import Policy
from bot.runtime.trackers import BUILDERS


async def check_trackers(policy: Policy, environ: Mapping[str, str]) -> tuple[list[str], bool]:
    """A line per tracker, and whether every one could be reached with its credentials."""
    lines: list[str] = []
    fine = True
    async with aiohttp.ClientSession() as http:
        for name, config in policy.trackers.items():
            builder = BUILDERS.get(config.kind)
            if builder is None:
                lines.append(f"{config.kind} {name}: this build has no {config.kind} adapter")
                fine = False
                continue
            adapter, missing = builder(name, config, http=http, environ=environ)
            if adapter is None:
                lines.append(f"{config.kind} {name}: {'; '.join(missing)}")
                fine = False
                continue
            said = await adapter.check()
            fine &= not any("cannot" in line for line in said)
            lines += said
    return lines, fine
