"""API tokens and idempotency keys, on SQLite and PostgreSQL: a token is found by its secret's hash until it
is revoked; a live name is never given twice; last-used is written at most once a minute; an
Idempotency-Key raced by two replicas is taken by exactly one of them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.api_tokens import IdempotencyRow, Principal, Scope, hash_secret
from bot.domain.errors import AlreadyStored, UserError
from bot.usecases.api_tokens import ApiTokens
from storage.db import create_engine, session_factory
from storage.migrate import upgrade_to_head
from storage.uow import UnitOfWork
from tests.conftest import FakeClock

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
Units = Callable[..., UnitOfWork]


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await upgrade_to_head(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def units(engine: AsyncEngine) -> Units:
    return partial(UnitOfWork, session_factory(engine))


async def add(units: Units, name: str, secret: str, *scopes: str, now: datetime = T0) -> int:
    async with units() as uow:
        row = await uow.api_tokens.add(name, hash_secret(secret), list(scopes) or ["incidents:read"], now=now)
        await uow.commit()
    return row.id


# ----- tokens ---------------------------------------------------------------------------------------------
async def test_a_token_is_found_by_its_hash_with_its_scopes_and_never_by_another(units: Units) -> None:
    await add(units, "deploy", "s3cret", "incidents:read", "events:read")
    async with units(read_only=True) as uow:
        found = await uow.api_tokens.by_hash(hash_secret("s3cret"))
        assert await uow.api_tokens.by_hash(hash_secret("other")) is None
    assert found is not None
    assert (found.name, found.scopes, found.created_at) == (
        "deploy",
        frozenset({Scope.INCIDENTS_READ, Scope.EVENTS_READ}),
        T0,
    )
    assert found.token_hash == hash_secret("s3cret") and found.last_used_at is None and found.live


async def test_a_live_name_is_never_given_twice_and_the_unit_of_work_goes_on(units: Units) -> None:
    await add(units, "deploy", "one")
    async with units() as uow:
        with pytest.raises(AlreadyStored):
            await uow.api_tokens.add("deploy", hash_secret("two"), ["incidents:read"], now=T0)
        await uow.api_tokens.add("other", hash_secret("three"), ["incidents:read"], now=T0)  # still usable
        await uow.commit()
    async with units(read_only=True) as uow:
        assert [row.name for row in await uow.api_tokens.all()] == ["deploy", "other"]


async def test_an_unknown_scope_is_not_stored(units: Units) -> None:
    async with units() as uow:
        with pytest.raises(UserError, match="unknown scope 'incidents:delete'"):
            await uow.api_tokens.add("deploy", hash_secret("x"), ["incidents:delete"], now=T0)


async def test_a_revoked_token_is_not_found_and_its_name_may_be_given_again(units: Units) -> None:
    await add(units, "deploy", "old")
    async with units() as uow:
        assert await uow.api_tokens.revoke("deploy", now=T0 + timedelta(hours=1))
        assert not await uow.api_tokens.revoke("deploy", now=T0 + timedelta(hours=2))  # revoked already
        assert not await uow.api_tokens.revoke("nobody", now=T0)
        await uow.commit()
    await add(units, "deploy", "new", now=T0 + timedelta(hours=3))
    async with units(read_only=True) as uow:
        assert await uow.api_tokens.by_hash(hash_secret("old")) is None
        renewed = await uow.api_tokens.by_hash(hash_secret("new"))
        listed = await uow.api_tokens.all()
    assert renewed is not None and renewed.name == "deploy"
    assert [(row.name, row.revoked_at) for row in listed] == [
        ("deploy", T0 + timedelta(hours=1)),
        ("deploy", None),
    ]


async def test_the_same_secret_cannot_be_stored_twice(units: Units) -> None:
    await add(units, "one", "same")
    async with units() as uow:
        with pytest.raises(AlreadyStored):
            await uow.api_tokens.add("two", hash_secret("same"), ["incidents:read"], now=T0)


async def test_last_used_is_written_at_most_once_a_minute(units: Units) -> None:
    token_id = await add(units, "deploy", "s")

    async def touch_and_read(at: datetime) -> datetime | None:
        async with units() as uow:
            await uow.api_tokens.touch(token_id, now=at)
            await uow.commit()
        async with units(read_only=True) as uow:
            row = await uow.api_tokens.by_hash(hash_secret("s"))
        assert row is not None
        return row.last_used_at

    assert await touch_and_read(T0) == T0
    assert await touch_and_read(T0 + timedelta(seconds=59)) == T0
    assert await touch_and_read(T0 + timedelta(seconds=61)) == T0 + timedelta(seconds=61)


# ----- the use case, on a real database -------------------------------------------------------------------
async def test_a_created_secret_authenticates_as_its_principal_until_revoked(units: Units) -> None:
    clock = FakeClock(T0)
    tokens = ApiTokens(units, clock)
    secret = await tokens.create("deploy-bot", [Scope.INCIDENTS_WRITE, Scope.INCIDENTS_READ])
    assert secret.startswith("tocsin_")
    principal = await tokens.authenticate(secret)
    assert principal == Principal("deploy-bot", frozenset({Scope.INCIDENTS_READ, Scope.INCIDENTS_WRITE}))
    assert principal.may(Scope.INCIDENTS_WRITE) and not principal.may(Scope.PRIVATE_READ)
    for wrong in ("", secret + "x", secret[:-1], "x" * 10_000):
        assert await tokens.authenticate(wrong) is None
    assert await tokens.revoke("deploy-bot")
    assert await tokens.authenticate(secret) is None
    assert not await tokens.revoke("deploy-bot")


async def test_the_secret_itself_is_stored_nowhere_only_its_hash(units: Units, engine: AsyncEngine) -> None:
    secret = await ApiTokens(units, FakeClock(T0)).create("deploy", ["incidents:read"])
    async with engine.connect() as connection:
        dumped = [str(row) for row in (await connection.exec_driver_sql("SELECT * FROM api_tokens")).all()]
    assert secret not in "".join(dumped) and hash_secret(secret) in "".join(dumped)


async def test_authenticating_records_the_last_use_a_minute_apart(units: Units) -> None:
    clock = FakeClock(T0)
    tokens = ApiTokens(units, clock)
    secret = await tokens.create("deploy", ["incidents:read"])
    await tokens.authenticate(secret)
    clock.advance(seconds=30)
    await tokens.authenticate(secret)
    assert [row.last_used_at for row in await tokens.listing()] == [T0]
    clock.advance(seconds=31)
    await tokens.authenticate(secret)
    assert [row.last_used_at for row in await tokens.listing()] == [T0 + timedelta(seconds=61)]


async def test_creating_refuses_a_bad_name_no_scopes_and_a_live_duplicate(units: Units) -> None:
    tokens = ApiTokens(units, FakeClock(T0))
    with pytest.raises(UserError, match="not a valid token name"):
        await tokens.create("Deploy Bot", ["incidents:read"])
    with pytest.raises(UserError, match="at least one scope"):
        await tokens.create("deploy", [])
    await tokens.create("deploy", ["incidents:read"])
    with pytest.raises(AlreadyStored):
        await tokens.create("deploy", ["incidents:read"])
    assert len(await tokens.listing()) == 1


# ----- idempotency keys -----------------------------------------------------------------------------------
async def test_a_key_is_claimed_once_per_principal_settled_and_forgotten(units: Units) -> None:
    async with units() as uow:
        assert await uow.idempotency.claim("deploy", "k1", "h1", now=T0) is None
        again = await uow.idempotency.claim("deploy", "k1", "h2", now=T0 + timedelta(seconds=1))
        assert again is not None and (again.request_hash, again.incident_id, again.created_at) == ("h1", None, T0)
        assert await uow.idempotency.claim("ci", "k1", "h1", now=T0) is None  # keys are per principal
        await uow.idempotency.settle("deploy", "k1", 42)
        settled = await uow.idempotency.claim("deploy", "k1", "h1", now=T0)
        assert settled is not None and settled.incident_id == 42
        await uow.idempotency.forget("ci", "k1")
        assert await uow.idempotency.claim("ci", "k1", "h3", now=T0) is None  # a failed declare's key is free
        await uow.commit()


async def test_keys_older_than_the_cut_off_expire(units: Units) -> None:
    async with units() as uow:
        for n in range(3):
            await uow.idempotency.claim("deploy", f"k{n}", "h", now=T0 + timedelta(hours=n))
        assert await uow.idempotency.expire(T0 + timedelta(hours=1, minutes=30)) == 2
        await uow.commit()
    async with units(read_only=True) as uow:
        assert await uow.idempotency.get("deploy", "k0") is None
        assert await uow.idempotency.get("deploy", "k2") is not None


async def test_a_claim_rolled_back_leaves_the_key_free(units: Units) -> None:
    async with units() as uow:
        assert await uow.idempotency.claim("deploy", "k", "h", now=T0) is None  # no commit
    async with units() as uow:
        assert await uow.idempotency.claim("deploy", "k", "h", now=T0) is None


async def test_a_claim_waiting_on_an_open_one_sees_it_once_committed(units: Units, database_url: str) -> None:
    other = create_engine(database_url)  # a second replica's pool
    try:
        async with units() as first:
            assert await first.idempotency.claim("deploy", "k", "h1", now=T0) is None
            second = asyncio.create_task(claim_and_commit(partial(UnitOfWork, session_factory(other)), "k", "h2"))
            await first.idempotency.settle("deploy", "k", 7)
            await first.commit()
        row = await asyncio.wait_for(second, 60)
    finally:
        await other.dispose()
    assert row is not None and (row.request_hash, row.incident_id) == ("h1", 7)


async def test_two_replicas_racing_on_the_same_keys_each_take_exactly_one(units: Units, database_url: str) -> None:
    other = create_engine(database_url)
    try:
        replicas: list[Units] = [units, partial(UnitOfWork, session_factory(other))]
        keys = [f"key-{n}" for n in range(15)]
        results = await asyncio.wait_for(
            asyncio.gather(*(claim_and_commit(replica, key, "h") for key in keys for replica in replicas)), 120
        )
    finally:
        await other.dispose()
    for n in range(len(keys)):
        pair = results[2 * n : 2 * n + 2]
        assert sum(result is None for result in pair) == 1, keys[n]


async def claim_and_commit(units: Units, key: str, request_hash: str) -> IdempotencyRow | None:
    async with units() as uow:
        result = await uow.idempotency.claim("deploy", key, request_hash, now=T0)
        await uow.commit()
    return result
