"""Round-robin tiers end to end: a tier with `strategy: round_robin` over three people pages one of them per
page, in turn, across a restart (nine pages: three each, in order), and a page repeating the tier pages
the same person again. The real app, alert webhooks, the strict Slack double, both databases."""

from __future__ import annotations

import sqlalchemy as sa

from bot.app import Tocsin
from bot.domain.policy import Policy
from storage.core_sql import table_of
from storage.db import session_factory
from storage.models import PageRow
from storage.uow import UnitOfWork
from tests.conftest import FakeClock, StartTocsin, settle, timers_of
from tests.e2e.test_alerts import TOKEN, post
from tests.slack_double import SlackDouble

TARGETS = ["U0ALICE", "U0BOB", "U0CAROL"]
POLICY = Policy.model_validate(
    {
        "escalation_policies": {
            "triage": {
                "repeat": 1,
                "tiers": [{"notify": [f"user:{u}" for u in TARGETS], "strategy": "round_robin", "after": "5m"}],
            }
        },
        "services": {"checkout": {"escalation_policy": "triage"}},
    }
)


async def alert(tocsin: Tocsin, number: int) -> None:
    """A new alert for checkout (a page of its own), its first step sent."""
    body = {"dedup_key": f"disk-{number}", "title": f"Disk full on db-{number}", "severity": "warning"}
    assert (await post(tocsin, "generic", {**body, "service": "checkout"}))[0] == 200
    await settle(tocsin)
    await timers_of(tocsin).tick()
    await settle(tocsin)


async def paged(tocsin: Tocsin, round: int) -> list[list[str]]:
    """Whom each page (oldest first) notified in `round`."""
    async with UnitOfWork(session_factory(tocsin.engine)) as uow:
        assert uow._session is not None
        pages = table_of(PageRow)
        ids = (await uow._session.exec(sa.select(pages.c.id).order_by(pages.c.id))).scalars().all()  # type: ignore[call-overload]
        return [[n.user_id for n in await uow.pages.notifications(i) if n.round == round] for i in ids]


async def test_a_round_robin_tier_takes_turns_across_a_restart_and_a_repeat_pages_the_same_person(
    double: SlackDouble, start_tocsin: StartTocsin, database_url: str, clock: FakeClock
) -> None:
    tocsin = await start_tocsin(database_url, clock=clock, policy=POLICY, alerts_token=TOKEN)
    for number in range(4):
        await alert(tocsin, number)
    await tocsin.stop(drain_seconds=5)
    tocsin = await start_tocsin(database_url, clock=clock, policy=POLICY, alerts_token=TOKEN)
    for number in range(4, 9):
        await alert(tocsin, number)
    first = await paged(tocsin, 0)
    assert first == [[u] for u in TARGETS * 3]
    clock.advance(minutes=5)  # nobody acknowledged: each page runs its tier again
    await timers_of(tocsin).tick()
    await settle(tocsin)
    assert await paged(tocsin, 1) == first
