"""Runbooks: parsing, validation with file and line, matching, checklists within Block Kit limits."""

import logging
import os
from pathlib import Path

import pytest

from bot.domain.policy import Policy
from bot.domain.runbooks import Runbook, RunbookError, RunbookLibrary, matches, parse_runbook, validate
from bot.slack import blocks
from tests.slack_double.blockkit import validate_blocks

SHIPPED = Path(__file__).resolve().parents[2] / "runbooks"
REQUIRED = [
    "database-connection-pool",
    "out-of-memory-crash-loop",
    "rollback-bad-deploy",
    "certificate-expiry",
    "third-party-outage",
]


def runbook(front: str, body: str = "- [ ] one step\n", name: str = "x") -> Runbook:
    return parse_runbook(name, f"---\n{front}\n---\n{body}")


def test_the_shipped_runbooks_are_valid_and_complete() -> None:
    library = RunbookLibrary(SHIPPED, Policy())
    assert library.problems() == []
    found = library.all()
    for name in REQUIRED:
        headings = [s.heading for s in found[name].sections]
        assert any(h in headings for h in ("Diagnose", "Decide")), (name, headings)
        assert any(h in headings for h in ("Mitigate", "Roll back")), (name, headings)
        assert "Verify" in headings, (name, headings)
        assert len(found[name].steps) >= 8


def test_steps_and_headings_are_read_in_order() -> None:
    parsed = runbook("title: T", "intro\n## A\n- [ ] one\n* [x] two\n## B\ntext\n- [ ] three\n")
    assert [(s.heading, [st.text for st in s.steps]) for s in parsed.sections] == [
        ("A", ["one", "two"]),
        ("B", ["three"]),
    ]
    assert [st.id for st in parsed.steps] == ["s1", "s2", "s3"] and parsed.steps[2].line == 10


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("no front matter\n- [ ] a\n", 1, "front matter missing"),
        ("---\ntitle: T\n- [ ] a\n", 1, "is not closed"),
        ("---\ntitle: T\nkeywords: [a\n---\n- [ ] a\n", 3, "not valid YAML"),
        ("---\ntitle: T\ncolour: red\n---\n- [ ] a\n", 3, "colour: unknown key"),
        ("---\nkeywords: [a]\n---\n- [ ] a\n", 2, "title: Field required"),
    ],
)
def test_unreadable_runbooks_name_the_file_and_line(text: str, line: int, message: str) -> None:
    with pytest.raises(RunbookError) as caught:
        parse_runbook("x", text, file="runbooks/x.md")
    assert caught.value.problem.file == "runbooks/x.md" and caught.value.problem.line == line
    assert message in caught.value.problem.message


def test_validation_against_the_policy() -> None:
    parsed = runbook("title: T\nservices: [ghost]\nseverities: [SEV9]", "no steps here\n")
    problems = [p.message for p in validate(parsed, Policy(), file="runbooks/x.md")]
    assert problems == [
        "no steps: write them as '- [ ] …' lines",
        "services: unknown service 'ghost'",
        "severities: 'SEV9' is not a severity",
    ]


def test_matching_rules() -> None:
    policy = Policy.model_validate({"services": {"checkout": {"runbooks": ["linked"]}, "search": {}}})
    by_keyword = runbook("title: T\nkeywords: [database, connection pool]")
    assert matches(by_keyword, title="Database slow", service=None, severity="SEV3", policy=policy)
    assert matches(by_keyword, title="The connection pool is full", service=None, severity="SEV3", policy=policy)
    assert not matches(by_keyword, title="Databases everywhere", service=None, severity="SEV3", policy=policy)
    linked = runbook("title: T", name="linked")
    assert matches(linked, title="anything", service="checkout", severity="SEV2", policy=policy)
    assert not matches(linked, title="anything", service="search", severity="SEV2", policy=policy)
    by_service = runbook("title: T\nservices: [search]")
    assert matches(by_service, title="x", service="search", severity="SEV4", policy=policy)
    sev1_only = runbook("title: T\nseverities: [SEV1]")
    assert matches(sev1_only, title="x", service=None, severity="SEV1", policy=policy)
    assert not matches(sev1_only, title="x", service=None, severity="SEV2", policy=policy)
    filtered = runbook("title: T\nkeywords: [db]\nseverities: [SEV1, SEV2]")
    assert matches(filtered, title="db down", service=None, severity="SEV2", policy=policy)
    assert not matches(filtered, title="db down", service=None, severity="SEV3", policy=policy)
    nothing = runbook("title: T")
    assert not matches(nothing, title="T", service=None, severity="SEV1", policy=policy)


@pytest.mark.parametrize("steps", [60, 600])
def test_a_long_runbook_is_split_within_block_kit_limits(steps: int) -> None:
    body = "".join(
        f"## Part {p}\n" + "".join(f"- [ ] step {p}.{n} " + "x" * 90 + "\n" for n in range(12))
        for p in range(steps // 12)
    )
    parsed = runbook("title: Long", body)
    assert len(parsed.steps) == steps
    ticked = {"s1", "s15"}
    messages = blocks.runbook_messages(7, parsed, ticked)
    seen_steps: list[str] = []
    for _, message in messages:
        assert validate_blocks(message) == [] and len(message) <= 50
        for block in message:
            if block["type"] == "actions":
                (element,) = block["elements"]
                assert len(element["options"]) <= 10
                seen_steps += [o["value"] for o in element["options"]]
    assert seen_steps == [s.id for s in parsed.steps]
    chosen = [
        o["value"]
        for _, m in messages
        for b in m
        if b["type"] == "actions"
        for o in b["elements"][0].get("initial_options", [])
    ]
    assert chosen == ["s1", "s15"]
    assert (len(messages) > 1) == (steps == 600)


def test_the_library_rereads_changed_files_and_skips_broken_ones(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.domain.runbooks")  # whatever an earlier test configured
    (tmp_path / "a.md").write_text("---\ntitle: A\n---\n- [ ] one\n")
    (tmp_path / "broken.md").write_text("no front matter\n")
    library = RunbookLibrary(tmp_path, Policy())
    assert list(library.all()) == ["a"] and "broken.md:1" in caplog.text
    (tmp_path / "a.md").write_text("---\ntitle: A2\n---\n- [ ] one\n- [ ] two\n")
    stamp = (tmp_path / "a.md").stat().st_mtime + 5
    os.utime(tmp_path / "a.md", (stamp, stamp))
    assert library.all()["a"].meta.title == "A2" and len(library.all()["a"].steps) == 2
