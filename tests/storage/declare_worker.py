"""Declares incidents from a separate OS process: `python -m tests.storage.declare_worker URL COUNT TAG`."""

from __future__ import annotations

import asyncio
import sys

from bot.domain.incidents import NewIncident
from bot.domain.policy import Policy
from bot.runtime.metrics import Metrics
from bot.slack import messages
from bot.usecases.declare import IncidentService
from storage.db import create_engine, session_factory
from storage.uow import UnitOfWork


async def declare_many(url: str, count: int, tag: str) -> None:
    engine = create_engine(url)
    sessions = session_factory(engine)
    service = IncidentService(
        uow=lambda **kw: UnitOfWork(sessions, **kw),
        slack=None,  # type: ignore[arg-type]  # recording a declaration never reaches Slack
        messages=messages,
        policy=Policy(),
        metrics=Metrics(),
    )
    news = [
        NewIncident(team_id="T1", title=f"{tag} {n}", severity="SEV2", declared_by="U1", declare_key=f"{tag}:{n}")
        for n in range(count)
    ]
    await asyncio.gather(*(service.record_declaration(new) for new in news))
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(declare_many(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
