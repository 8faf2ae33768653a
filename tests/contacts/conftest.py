"""Fixtures for waking people end to end: the contact providers' doubles (Twilio, ntfy, Pushover), a policy
that pages alice by them, and a Tocsin whose PUBLIC_URL is where it listens (so the doubles' callbacks
reach it)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from bot.app import Tocsin
from bot.domain.escalation import Page
from bot.domain.policy import Policy
from storage.db import session_factory
from storage.uow import UnitOfWork
from tests.conftest import FakeClock, StartTocsin, jobs_of, settle, timers_of
from tests.contact_doubles.ntfy_double import NtfyDouble
from tests.contact_doubles.pushover_double import APP_TOKEN, USER_KEY, PushoverDouble
from tests.contact_doubles.twilio_double import ACCOUNT_SID, AUTH_TOKEN, NUMBER, TwilioDouble

ALICE_PHONE = "+447700900123"
ALICE_TOPIC = "alice-pager"


@dataclass
class Providers:
    """The doubles of every provider, running."""

    twilio: TwilioDouble
    ntfy: NtfyDouble
    pushover: PushoverDouble


@pytest.fixture
async def providers(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Providers]:
    """Twilio, ntfy and Pushover doubles, with their credentials in the environment."""
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    monkeypatch.setenv("PUSHOVER_TOKEN", APP_TOKEN)
    async with TwilioDouble() as twilio, NtfyDouble() as ntfy, PushoverDouble() as pushover:
        yield Providers(twilio, ntfy, pushover)


def contact_policy(
    providers: Providers, *, rules: list[dict[str, Any]] | None = None, contacts: dict[str, str] | None = None
) -> Policy:
    """A checkout service paging alice (one tier, 10 minutes) when a SEV1 is declared; alice's addresses and
    rules set by an admin: by default Slack at once, push after a minute, a call after three."""
    return Policy.model_validate(
        {
            "escalation_policies": {"payments": {"tiers": [{"notify": ["user:U0ALICE"], "after": "10m"}]}},
            "services": {
                "checkout": {"keywords": ["checkout"], "escalation_policy": "payments", "page_on_declare": ["SEV1"]}
            },
            "contact_methods": {
                "ntfy": {"url": providers.ntfy.base_url},
                "twilio": {"from": NUMBER, "api_url": providers.twilio.base_url},
                "pushover": {"api_url": providers.pushover.base_url},
            },
            "people": {
                "U0ALICE": {
                    "contacts": contacts if contacts is not None else {"ntfy": ALICE_TOPIC, "voice": ALICE_PHONE},
                    "rules": rules
                    if rules is not None
                    else [
                        {"method": "slack"},
                        {"method": "ntfy", "after": "1m"},
                        {"method": "voice", "after": "3m"},
                    ],
                }
            },
        }
    )


def free_port() -> int:
    """A port nothing listens on now (Tocsin's PUBLIC_URL must be known before it starts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def start_public(
    start_tocsin: StartTocsin, database_url: str, policy: Policy, clock: FakeClock, port: int | None = None
) -> Tocsin:
    """A Tocsin listening on a known port, with PUBLIC_URL pointing at it."""
    port = port or free_port()
    return await start_tocsin(
        database_url, policy=policy, clock=clock, port=port, public_url=f"http://127.0.0.1:{port}"
    )


async def run_jobs(tocsin: Tocsin) -> None:
    """Fire the due contact attempts and wait for what they led to."""
    await jobs_of(tocsin).tick()
    await settle(tocsin)


async def run_steps(tocsin: Tocsin) -> None:
    """Send the due page steps (and the attempts due at once) and wait for what they led to."""
    await timers_of(tocsin).tick()
    await settle(tocsin)
    await run_jobs(tocsin)


async def stored_page(tocsin: Tocsin, page_id: int = 1) -> Page:
    """A page as the database has it now."""
    async with UnitOfWork(session_factory(tocsin.engine)) as uow:
        page = await uow.pages.get(page_id)
    assert page is not None
    return page


def metric(tocsin: Tocsin, method: str, outcome: str) -> float:
    """tocsin_contact_attempts_total for a method and outcome."""
    wanted = f'tocsin_contact_attempts_total{{method="{method}",outcome="{outcome}"}} '
    for line in tocsin.metrics.render().decode().splitlines():
        if line.startswith(wanted):
            return float(line.split()[-1])
    return 0.0


__all__ = ["ALICE_PHONE", "ALICE_TOPIC", "USER_KEY", "Providers", "contact_policy", "start_public"]
