"""Every migration is additive, as docs/operations.md promises for rolling deploys: a replica of the
previous version, still running, keeps working on the new schema because its upgrade never drops or
renames a table or column, alters a column, or drops a constraint."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

VERSIONS = Path(__file__).resolve().parents[2] / "storage" / "migrations" / "versions"
# What an old replica could trip over. Dropping an index (0003) only changes speed.
NOT_ADDITIVE = {"drop_table", "drop_column", "alter_column", "rename_table", "drop_constraint", "execute_drop"}
# Data statements in op.execute must only fill new columns; they are read by a person, listed here.
# Reviewed: 0023 creates its own full-text table and triggers (FTS5 / tsvector) and fills its own new tables.
REVIEWED_SQL = {"0003_paging_and_reminders.py", "0023_related_incidents.py"}


def upgrade_calls(path: Path) -> list[ast.Call]:
    """The calls inside a migration's upgrade()."""
    tree = ast.parse(path.read_text())
    (upgrade,) = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "upgrade"]
    return [n for n in ast.walk(upgrade) if isinstance(n, ast.Call)]


def called(call: ast.Call) -> str:
    return call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")


@pytest.mark.parametrize("migration", sorted(VERSIONS.glob("[0-9]*.py")), ids=lambda p: p.stem)
def test_a_migration_only_adds(migration: Path) -> None:
    names = [called(c) for c in upgrade_calls(migration)]
    assert not NOT_ADDITIVE & set(names), f"{migration.name} is not additive: {sorted(NOT_ADDITIVE & set(names))}"
    if "execute" in names:
        assert migration.name in REVIEWED_SQL, f"{migration.name} runs SQL: check it only fills new columns"
