"""`tocsin token create|list|revoke`: the API's tokens, from the command line, in the database DATABASE_URL
names (migrated first, as `tocsin migrate` would). A new token's secret is printed once, alone on the last
line of the output, so a script can take it with `tail -n 1`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TypeVar

from bot.domain.api_tokens import SCOPES, ApiTokenRow, check_token_name, parse_scopes, scope_list
from bot.domain.errors import AlreadyStored, ConfigError, UserError
from bot.settings import DatabaseSettings
from bot.usecases.api_tokens import ApiTokens

EXIT_REFUSED = 1  # the database said no: the name is taken, or there is no such token
EXIT_USAGE = 2  # what was typed is wrong (as argparse's own errors)
_Result = TypeVar("_Result")


def add_token_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `token create NAME --scopes a,b`, `token list` and `token revoke NAME` to the command line."""
    token = subparsers.add_parser("token", help="create, list and revoke API tokens")
    commands = token.add_subparsers(dest="verb", required=True)
    create = commands.add_parser("create", help="create a token and print its secret (once)")
    create.add_argument("name", help="the token's name, also who its actions show as: 1-64 of a-z, 0-9, - and _")
    create.add_argument("--scopes", required=True, help=f"what the token may do, comma-separated: {SCOPES}")
    commands.add_parser("list", help="list the tokens (never their secrets)")
    revoke = commands.add_parser("revoke", help="revoke a token: it stops working at once")
    revoke.add_argument("name")


def run_token_command(args: argparse.Namespace, settings: DatabaseSettings) -> int:
    """Run the `token` subcommand `args` chose; its exit status. ConfigError for an unusable database."""
    if args.verb == "create":
        try:
            name = check_token_name(args.name)
            scopes = parse_scopes(args.scopes)
        except UserError as exc:
            return _fail(str(exc), EXIT_USAGE)
        try:
            secret = _with_tokens(settings, lambda tokens: tokens.create(name, scopes))
        except AlreadyStored:
            return _fail(f"a live token named {name!r} exists; revoke it first, or choose another name", EXIT_REFUSED)
        print(f"Created API token {name!r} with scopes {scope_list(scopes).replace(',', ', ')}.")
        print("This secret is shown once and cannot be shown again (only its hash is stored). Keep it now:")
        print(secret)
        return 0
    if args.verb == "list":
        _print_listing(_with_tokens(settings, lambda tokens: tokens.listing()))
        return 0
    if not _with_tokens(settings, lambda tokens: tokens.revoke(args.name)):
        return _fail(f"there is no live token named {args.name!r} (`tocsin token list` shows them)", EXIT_REFUSED)
    print(f"Revoked API token {args.name!r}: it no longer works.")
    return 0


def _fail(message: str, status: int) -> int:
    print(f"tocsin: {message}", file=sys.stderr)
    return status


def _print_listing(rows: list[ApiTokenRow]) -> None:
    if not rows:
        print("There are no API tokens; `tocsin token create NAME --scopes …` makes one.")
        return
    table = [("NAME", "SCOPES", "CREATED", "LAST USED", "REVOKED")]
    table += [
        (row.name, scope_list(row.scopes), _when(row.created_at), _when(row.last_used_at), _when(row.revoked_at))
        for row in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    for line in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _with_tokens(settings: DatabaseSettings, work: Callable[[ApiTokens], Awaitable[_Result]]) -> _Result:
    """Run `work` on the tokens of the database DATABASE_URL names, migrated to this version first."""
    from bot.runtime.startup import wait_for_database
    from bot.usecases.ports import utc_now
    from storage.db import create_engine, session_factory
    from storage.migrate import upgrade_to_head
    from storage.uow import UnitOfWork

    missing = missing_sqlite_file(settings.database_url)
    if missing is not None:  # connecting would create an empty database, and the token in it would be lost
        raise ConfigError(
            f"there is no database at {missing} (DATABASE_URL); point DATABASE_URL at Tocsin's database, "
            "or run `tocsin migrate` to create it"
        )

    async def run() -> _Result:
        engine = create_engine(settings.database_url)
        try:
            await wait_for_database(
                engine, settings.database_url, within=settings.startup_timeout, ready=upgrade_to_head
            )
            return await work(ApiTokens(partial(UnitOfWork, session_factory(engine)), utc_now))
        finally:
            await engine.dispose()

    return asyncio.run(run())


def missing_sqlite_file(url: str) -> Path | None:
    """The file a SQLite DATABASE_URL names, when it does not exist; None for anything else."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    path = Path(parsed.database)
    return None if path.exists() else path.absolute()
