"""The layers hold: what each folder may import, and no import cycles. Read from the source with `ast`,
so the test needs nothing imported. Imports under `if TYPE_CHECKING:` are types only and left out, except
where a layer may not even name a thing (the use cases know Slack and the database only by their ports)."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ("bot", "storage")
# Third-party libraries the pure domain may use: models (pydantic), the files it reads (PyYAML), the
# postmortem template (Jinja2) and channel-name transliteration (anyascii). No Slack, HTTP or database.
DOMAIN_LIBRARIES = {"pydantic", "yaml", "jinja2", "anyascii"}
# What the use cases never import, not even for a type or inside a function: they reach Slack, the database
# and the process only through bot/usecases/ports.py (and its message catalogue and stores).
NOT_FOR_USE_CASES = (
    "bot.slack",
    "bot.entrypoints",
    "bot.app",
    "bot.wiring",
    "storage",
    "sqlalchemy",
    "sqlmodel",
    "slack_sdk",
    "slack_bolt",
    "aiohttp",
)


def modules() -> dict[str, Path]:
    found = {}
    for package in PROJECT:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports(path: Path, *, top_level_only: bool = False, types_too: bool = False) -> Iterator[str]:
    """Every module `path` imports at run time, inside functions too (`top_level_only`: not inside them);
    `types_too`: and under `if TYPE_CHECKING:`."""

    def visit(nodes: list[ast.stmt]) -> Iterator[str]:
        for node in nodes:
            if isinstance(node, ast.If) and _type_checking_only(node) and not types_too:
                continue
            if isinstance(node, ast.Import):
                yield from (alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                yield node.module
                yield from (f"{node.module}.{alias.name}" for alias in node.names)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and top_level_only:
                continue
            for field in ("body", "orelse", "finalbody", "handlers"):
                children = getattr(node, field, None)
                if isinstance(children, list):
                    yield from visit([c for c in children if isinstance(c, ast.stmt)])

    tree = ast.parse(path.read_text(), str(path))
    yield from visit(tree.body)


def project_imports(path: Path, known: dict[str, Path], **kw: bool) -> set[str]:
    """The project modules `path` imports (`from bot.x import name` counts as bot.x unless name is a module)."""
    return {name for name in imports(path, **kw) if name in known}


def under(name: str, *packages: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def test_the_domain_imports_only_itself_the_standard_library_and_its_libraries() -> None:
    known = modules()
    wrong = []
    for name, path in known.items():
        if not under(name, "bot.domain"):
            continue
        for imported in imports(path):
            top = imported.split(".")[0]
            if under(imported, "bot.domain") or top in sys.stdlib_module_names or top in DOMAIN_LIBRARIES:
                continue
            if top == "__future__":
                continue
            wrong.append(f"{name} imports {imported}")
    assert wrong == []


def test_storage_imports_nothing_of_bot_but_the_domain() -> None:
    known = modules()
    wrong = [
        f"{name} imports {imported}"
        for name, path in known.items()
        if under(name, "storage")
        for imported in project_imports(path, known)
        if under(imported, "bot") and not under(imported, "bot.domain")
    ]
    assert wrong == []


def test_slack_helpers_and_the_runtime_never_import_use_cases_entry_points_or_storage() -> None:
    known = modules()
    rules = {
        "bot.slack": ("bot.entrypoints", "bot.usecases", "bot.app", "bot.wiring", "storage"),
        "bot.runtime": ("bot.entrypoints", "bot.usecases", "bot.slack", "bot.app", "bot.wiring", "storage"),
    }
    wrong = [
        f"{name} imports {imported}"
        for name, path in known.items()
        for layer, forbidden in rules.items()
        if under(name, layer)
        for imported in project_imports(path, known, types_too=True)
        if under(imported, *forbidden)
    ]
    assert wrong == []


def test_use_cases_import_no_slack_no_database_and_no_storage_not_even_for_types_or_in_functions() -> None:
    wrong = [
        f"{name} imports {imported}"
        for name, path in modules().items()
        if under(name, "bot.usecases")
        for imported in imports(path, types_too=True)
        if under(imported, *NOT_FOR_USE_CASES)
    ]
    assert wrong == []


def test_imports_are_seen_inside_functions_and_type_checking_blocks_when_asked(tmp_path: Path) -> None:
    source = tmp_path / "sample.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from storage.uow import UnitOfWork\n"
        "def later() -> None:\n    import sqlalchemy\n"
        "class Kept:\n    async def call(self) -> None:\n        from slack_sdk.errors import SlackApiError\n"
    )
    assert "storage.uow" not in set(imports(source))
    assert {"storage.uow", "sqlalchemy", "slack_sdk.errors"} <= set(imports(source, types_too=True))
    assert {"sqlalchemy", "slack_sdk.errors"}.isdisjoint(imports(source, top_level_only=True))


def test_bot_holds_only_the_layers_and_the_process_modules() -> None:
    top = {p.name for p in (ROOT / "bot").iterdir() if not p.name.startswith((".", "__pycache__"))}
    layers = {"entrypoints", "usecases", "domain", "slack", "runtime"}
    assert top == layers | {"__init__.py", "__main__.py", "app.py", "wiring.py", "settings.py"}


def test_there_are_no_import_cycles() -> None:
    known = modules()
    graph = {name: project_imports(path, known, top_level_only=True) - {name} for name, path in known.items()}
    cycles = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*path[path.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert cycles == []


def test_no_module_is_much_over_four_hundred_lines() -> None:
    long = {name: lines for name, path in modules().items() if (lines := len(path.read_text().splitlines())) > 420}
    assert long == {}
