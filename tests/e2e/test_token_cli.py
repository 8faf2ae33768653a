"""`tocsin token` as an operator runs it: `create` shows the secret once, alone on its last line, and the
secret then authenticates with exactly its scopes; `list` never shows a secret or hash; `revoke` stops a
token at once; mistakes are one line on stderr with exit 1 (the database said no) or 2 (what was typed)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from bot.domain.api_tokens import Principal, Scope, hash_secret
from bot.usecases.api_tokens import ApiTokens
from storage.db import create_engine, session_factory
from storage.uow import UnitOfWork
from tests.e2e.test_process import clean_env, run


async def tocsin(*args: str, database_url: str, cwd: Path) -> tuple[int, str, str]:
    env = clean_env(PYTHONPATH=os.getcwd(), DATABASE_URL=database_url)
    return await run(*args, env=env, cwd=cwd)


async def authenticate(database_url: str, secret: str) -> Principal | None:
    engine = create_engine(database_url)
    try:
        return await ApiTokens(partial(UnitOfWork, session_factory(engine)), lambda: datetime.now(UTC)).authenticate(
            secret
        )
    finally:
        await engine.dispose()


async def migrated_sqlite(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'tocsin.db'}"
    assert (await tocsin("migrate", database_url=url, cwd=tmp_path))[0] == 0
    return url


async def test_a_token_is_created_listed_used_and_revoked(database_url: str, tmp_path: Path) -> None:
    if database_url.startswith("sqlite"):
        database_url = await migrated_sqlite(tmp_path)
    code, out, err = await tocsin(
        "token",
        "create",
        "deploy-bot",
        "--scopes",
        "incidents:write, incidents:read",
        database_url=database_url,
        cwd=tmp_path,
    )
    assert (code, err) == (0, "")
    *notice, secret = out.splitlines()
    assert "shown once" in notice[-1]
    assert secret.startswith("tocsin_") and " " not in secret
    assert await authenticate(database_url, secret) == Principal(
        "deploy-bot", frozenset({Scope.INCIDENTS_READ, Scope.INCIDENTS_WRITE})
    )

    code, listing, _ = await tocsin("token", "list", database_url=database_url, cwd=tmp_path)
    assert code == 0
    header, row = listing.splitlines()
    assert header.split() == ["NAME", "SCOPES", "CREATED", "LAST", "USED", "REVOKED"]
    name, scopes, created, last_used, revoked = row.split()
    assert (name, scopes, revoked) == ("deploy-bot", "incidents:read,incidents:write", "-")
    assert created.startswith(f"{datetime.now(UTC):%Y-}") and last_used.endswith("Z")  # it was just used
    assert secret not in listing and hash_secret(secret) not in listing

    code, out, _ = await tocsin("token", "revoke", "deploy-bot", database_url=database_url, cwd=tmp_path)
    assert code == 0 and "deploy-bot" in out
    assert await authenticate(database_url, secret) is None
    _, listing, _ = await tocsin("token", "list", database_url=database_url, cwd=tmp_path)
    assert listing.splitlines()[1].split()[-1].endswith("Z")  # revoked, and when


async def test_mistakes_are_one_line_on_stderr_with_the_right_exit_status(tmp_path: Path) -> None:
    url = await migrated_sqlite(tmp_path)
    assert (await tocsin("token", "create", "ci", "--scopes", "events:read", database_url=url, cwd=tmp_path))[0] == 0

    duplicate = await tocsin("token", "create", "ci", "--scopes", "events:read", database_url=url, cwd=tmp_path)
    assert (duplicate[0], duplicate[1]) == (1, "")
    assert duplicate[2] == "tocsin: a live token named 'ci' exists; revoke it first, or choose another name\n"

    unknown = await tocsin("token", "create", "ci2", "--scopes", "incidents:delete", database_url=url, cwd=tmp_path)
    assert (unknown[0], unknown[1]) == (2, "")
    assert unknown[2] == (
        "tocsin: unknown scope 'incidents:delete'; the scopes are: "
        "incidents:read, incidents:write, follow-ups:write, private:read, events:read\n"
    )

    bad_name = await tocsin("token", "create", "CI Bot", "--scopes", "events:read", database_url=url, cwd=tmp_path)
    assert bad_name[0] == 2 and len(bad_name[2].splitlines()) == 1 and "a-z, 0-9, - and _" in bad_name[2]

    missing = await tocsin("token", "revoke", "nobody", database_url=url, cwd=tmp_path)
    assert (missing[0], missing[1]) == (1, "")
    assert missing[2] == "tocsin: there is no live token named 'nobody' (`tocsin token list` shows them)\n"

    _, listing, _ = await tocsin("token", "list", database_url=url, cwd=tmp_path)
    assert [line.split()[0] for line in listing.splitlines()[1:]] == ["ci"]  # nothing else was created


async def test_a_database_that_does_not_exist_is_not_created_by_a_token_command(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    code, out, err = await tocsin("token", "create", "ci", "--scopes", "events:read", database_url=url, cwd=tmp_path)
    assert (code, out) == (2, "")
    assert len(err.splitlines()) == 1 and "there is no database at" in err and "Traceback" not in err
    assert not (tmp_path / "elsewhere.db").exists()


async def test_an_empty_list_says_how_to_make_a_token(tmp_path: Path) -> None:
    url = await migrated_sqlite(tmp_path)
    code, out, _ = await tocsin("token", "list", database_url=url, cwd=tmp_path)
    assert code == 0 and "tocsin token create" in out
