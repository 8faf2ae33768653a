"""Whether this replica can take work: its database answers (readiness; Slack's state is detail)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime.logs import Outage


async def database_answers(engine: AsyncEngine, outage: Outage) -> bool:
    """One `SELECT 1` within 2 s; a failure is told once per outage, not once per probe."""
    try:
        async with asyncio.timeout(2):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "not ready"; one line (per outage) says why
        outage.failed(type(exc).__name__)
        return False
    outage.answered()
    return True


@dataclass
class Identity:
    """The bot's identity in its workspace, from auth.test (filled in at start, read by Bolt's authorize)."""

    bot_user_id: str | None = None
    bot_id: str | None = None
    team_id: str | None = None
    enterprise_id: str | None = None
