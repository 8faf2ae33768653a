"""The monitoring examples in docs/: the Prometheus rules and the Grafana dashboard query only series a
running Tocsin serves on /metrics, every metric it serves is described in docs/monitoring.md, and, when
promtool is installed, it accepts the rules, passes their unit tests, parses the dashboard's queries and
finds nothing to lint in /metrics."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from bot.app import Tocsin
from tests.conftest import StartTocsin

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGE = DOCS / "monitoring.md"
RULES = DOCS / "monitoring" / "prometheus-rules.yml"
RULE_TESTS = DOCS / "monitoring" / "prometheus-rules.test.yml"
DASHBOARD = DOCS / "monitoring" / "grafana-dashboard.json"
TRANSPORTS = ["http", "socket"]

# Series the examples use that are not Tocsin's, and who makes them.
NOT_TOCSIN = {"up": "Prometheus, for every target it scrapes", "probe_success": "the blackbox exporter probing /readyz"}
# The sample names each metric type is queried by (its family name plus these), as prometheus_client serves them.
SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
    "info": ("_info",),
    "unknown": ("",),
}
# What Grafana puts in place of its variables, so a dashboard query reads as plain PromQL.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__range": "6h", "$__interval": "1m", "$job": ".+"}

PROMTOOL = shutil.which("promtool")
NO_PROMTOOL = "promtool is not installed (on Debian and Ubuntu: apt-get install prometheus)"

_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"|`[^`]*`')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGES = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_NAME = re.compile(r"(?<![\w.$:])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(?!\s*\()")
_NUMBER_WORDS = {"inf", "nan"}
_KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right"}
_TOCSIN_NAME = re.compile(r"\btocsin_[a-z0-9_]*[a-z0-9]")


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (label names, values, functions and keywords left out)."""
    bare = _GROUPING.sub(" ", _RANGES.sub(" ", _MATCHERS.sub(" ", _QUOTED.sub('""', expr))))
    bare = re.sub(r"\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\b", " ", bare)  # numbers, 1e3 included
    return {n for n in _NAME.findall(bare) if n not in _KEYWORDS and n.lower() not in _NUMBER_WORDS}


def served_names(exposition: str) -> set[str]:
    """Every sample name /metrics serves, or would once a labelled series has a value."""
    names: set[str] = set()
    for family in text_string_to_metric_families(exposition):
        names |= {family.name + suffix for suffix in SUFFIXES[family.type]}
    return names


def documented_names(exposition: str) -> dict[str, str]:
    """Each metric /metrics serves, by the name a query uses for it (counters end in _total), with its type."""
    queried = {"counter": "_total", "info": "_info"}
    return {
        family.name + queried.get(family.type, ""): family.type
        for family in text_string_to_metric_families(exposition)
        if not family.name.endswith("_created")  # prometheus_client's creation times, not metrics of their own
    }


def rules() -> list[dict[str, Any]]:
    """The example alerting rules."""
    return [rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]


def dashboard() -> dict[str, Any]:
    """The example Grafana dashboard."""
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def dashboard_queries(board: dict[str, Any]) -> list[str]:
    """Every PromQL query in the dashboard (its panels' and its variables'), Grafana's variables filled in."""
    queries = [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
    for variable in board["templating"]["list"]:
        found = re.fullmatch(r"label_values\((\w+),\s*\w+\)", variable.get("definition", ""))
        if found:
            queries.append(found.group(1))
    filled = []
    for query in queries:
        for variable, value in GRAFANA_VARIABLES.items():
            query = query.replace(variable, value)
        assert "$" not in query, f"a Grafana variable this test does not know: {query}"
        filled.append(query)
    return filled


async def served(tocsin: Tocsin) -> str:
    """What GET /metrics answers."""
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{tocsin.port}/metrics") as response:
        assert response.status == 200
        return await response.text()


def test_the_name_reader_finds_metrics_and_nothing_else() -> None:
    expr = (
        'sum by (job, le) (rate(tocsin_a_bucket{job=~"$job", error!~"x|y"}[5m])) / ignoring (kind) '
        'sum without (le) (tocsin_b_total offset 5m) > 1.5e3 and on (job) up{job="tocsin"} == bool 0 '
        "or absent(tocsin_c) unless tocsin:recorded:rate5m > Inf"
    )
    assert metric_names(expr) == {"tocsin_a_bucket", "tocsin_b_total", "up", "tocsin_c", "tocsin:recorded:rate5m"}


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_the_rules_and_the_dashboard_query_only_what_tocsin_serves(
    start_tocsin: StartTocsin, sqlite_url: str, transport: str
) -> None:
    exposition = await served(await start_tocsin(sqlite_url, transport=transport))
    known = served_names(exposition)
    assert "tocsin_slack_up" in known and "tocsin_timer_lateness_seconds_bucket" in known  # the reading works

    for rule in rules():
        unknown = metric_names(rule["expr"]) - known - NOT_TOCSIN.keys()
        assert not unknown, f"{rule['alert']} queries {sorted(unknown)}, which Tocsin does not serve on /metrics"
    board = dashboard()
    for query in dashboard_queries(board):
        unknown = metric_names(query) - known - NOT_TOCSIN.keys()
        assert not unknown, f"the dashboard queries {sorted(unknown)}, which Tocsin does not serve: {query}"

    # Names in prose too (a histogram by its own name): annotations, panel descriptions and the page itself.
    nameable = known | documented_names(exposition).keys()
    for where, text in ((RULES, RULES.read_text()), (DASHBOARD, DASHBOARD.read_text()), (PAGE, PAGE.read_text())):
        named = set(_TOCSIN_NAME.findall(text)) - nameable
        assert not named, f"{where.name} names {sorted(named)}, which Tocsin does not serve on /metrics"


async def test_every_metric_tocsin_serves_is_described_in_the_monitoring_page(
    start_tocsin: StartTocsin, sqlite_url: str
) -> None:
    page = PAGE.read_text()
    missing = [
        f"{name} ({kind})"
        for name, kind in documented_names(await served(await start_tocsin(sqlite_url))).items()
        if f"`{name}`" not in page
    ]
    assert not missing, f"docs/monitoring.md does not describe {missing}: add each to its table of metrics"


def test_the_dashboard_is_an_importable_grafana_dashboard() -> None:
    board = dashboard()
    assert board["schemaVersion"] >= 36 and board["uid"] and board["title"]
    (source,) = board["__inputs"]
    assert (source["name"], source["type"], source["pluginId"]) == ("DS_PROMETHEUS", "datasource", "prometheus")
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids)), "panel ids repeat"
    graphs = [p for p in board["panels"] if p["type"] != "row"]
    assert len(graphs) >= 10
    for panel in graphs:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}, panel["title"]
        assert panel["targets"] and panel["description"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == panel["datasource"] and target["expr"].strip(), panel["title"]
        position = panel["gridPos"]
        assert position["x"] + position["w"] <= 24, f"{panel['title']} is wider than the dashboard"


def test_every_rule_says_what_is_wrong_and_how_bad() -> None:
    names = [rule["alert"] for rule in rules()]
    assert len(names) == len(set(names)), "alert names repeat"
    for rule in rules():
        assert rule["labels"]["severity"] in ("critical", "warning", "info"), rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], rule["alert"]


@pytest.mark.skipif(PROMTOOL is None, reason=NO_PROMTOOL)
def test_promtool_accepts_the_rules_and_they_pass_their_unit_tests() -> None:
    assert PROMTOOL is not None
    checked = subprocess.run([PROMTOOL, "check", "rules", RULES.name], cwd=RULES.parent, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run(
        [PROMTOOL, "test", "rules", RULE_TESTS.name], cwd=RULES.parent, capture_output=True, text=True, timeout=120
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr


@pytest.mark.skipif(PROMTOOL is None, reason=NO_PROMTOOL)
def test_promtool_parses_every_dashboard_query(tmp_path: Path) -> None:
    assert PROMTOOL is not None
    # promtool has no command to parse one query, so each becomes a recording rule it checks.
    queries = [{"record": f"dashboard:query_{n}", "expr": q} for n, q in enumerate(dashboard_queries(dashboard()))]
    rules_file = tmp_path / "dashboard-queries.yml"
    rules_file.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": queries}]}))
    checked = subprocess.run([PROMTOOL, "check", "rules", str(rules_file)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.skipif(PROMTOOL is None, reason=NO_PROMTOOL)
async def test_promtool_finds_nothing_to_lint_in_what_tocsin_serves(start_tocsin: StartTocsin, sqlite_url: str) -> None:
    assert PROMTOOL is not None
    exposition = await served(await start_tocsin(sqlite_url))
    lint = await asyncio.create_subprocess_exec(
        PROMTOOL,
        "check",
        "metrics",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    said, _ = await asyncio.wait_for(lint.communicate(exposition.encode()), 60)
    assert lint.returncode == 0 and not said.strip(), said.decode()
