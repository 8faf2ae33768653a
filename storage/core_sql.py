"""Table-level (SQLAlchemy Core) SQL run through the unit of work's SQLModel session, typed.

SQLModel types `session.exec` for its own `select()` (up to four columns) and for INSERT, UPDATE and
DELETE. A wider Core SELECT or a text statement runs the same way, but is not among its overloads: `run`
is the one place that says so. `table_of` is a model's table, and `dialect_insert` / `inserts_by_dialect`
the INSERT whose ON CONFLICT clause the database in use understands (PostgreSQL and SQLite spell it alike).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import class_mapper
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

DialectInsert = postgresql.Insert | sqlite.Insert
Params = Mapping[str, Any] | Sequence[Mapping[str, Any]]
_Built = TypeVar("_Built")


def table_of(model: type[SQLModel]) -> sa.Table:
    """The table a model is mapped to (SQLModel's metaclass sets it; its typing does not declare it)."""
    table = class_mapper(model, configure=False).local_table
    assert isinstance(table, sa.Table)
    return table


def dialect_of(session: AsyncSession) -> str:
    """The name of the session's database dialect: "postgresql" or "sqlite"."""
    return session.bind.dialect.name


def dialect_insert(session: AsyncSession, table: type[SQLModel] | sa.Table) -> DialectInsert:
    """An INSERT into `table` with ON CONFLICT support for the session's dialect."""
    return postgresql.insert(table) if dialect_of(session) == "postgresql" else sqlite.insert(table)


def inserts_by_dialect(table: sa.Table, finish: Callable[[DialectInsert], _Built]) -> dict[str, _Built]:
    """An INSERT into `table` per dialect name, finished by `finish` (its ON CONFLICT clause): built once,
    for statements run often."""
    return {"postgresql": finish(postgresql.insert(table)), "sqlite": finish(sqlite.insert(table))}


async def run(
    session: AsyncSession, statement: sa.Select[Any] | sa.TextClause, params: Params | None = None
) -> sa.Result[Any]:
    """Run a Core SELECT (of any width) or a text statement in the session, which flushes pending objects
    first as it does for every statement; its rows."""
    # Runs as any statement does; SQLModel's overloads only name its own select() and INSERT/UPDATE/DELETE.
    result: sa.Result[Any] = await session.exec(statement, params=params)  # type: ignore[call-overload]
    return result
