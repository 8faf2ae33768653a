"""The documentation holds together: every relative link in README.md and docs/*.md names a file that
exists (and a heading that exists, when it names one), no document points outside the repository, and
the Slack app page lists exactly the events the manifest subscribes to."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")


def prose(document: Path) -> str:
    """A document without its code blocks and code spans (where brackets are not links)."""
    return CODE_SPAN.sub("", FENCE.sub("", document.read_text(encoding="utf-8")))


def relative_links(document: Path) -> list[str]:
    """The links in a document that point inside the repository."""
    return [t for t in LINK.findall(prose(document)) if not re.match(r"^[a-z][a-z0-9+.-]*:", t)]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", lambda m: m.group(1) or "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(document: Path) -> set[str]:
    """The anchors a Markdown file's headings give, with GitHub's -1, -2… for repeated ones."""
    seen: dict[str, int] = {}
    found = set()
    for line in FENCE.sub("", document.read_text(encoding="utf-8")).splitlines():
        if match := re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line):
            base = slug(match.group(1))
            found.add(base if base not in seen else f"{base}-{seen[base]}")
            seen[base] = seen.get(base, 0) + 1
    return found


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(document: Path) -> None:
    broken = []
    for target in relative_links(document):
        path, _, fragment = target.partition("#")
        resolved = (document.parent / path).resolve() if path else document
        if not resolved.exists():
            broken.append(f"{target}: no such file")
        elif fragment and resolved.suffix == ".md" and fragment not in anchors(resolved):
            broken.append(f"{target}: no heading #{fragment} in {resolved.relative_to(ROOT)}")
        elif ROOT not in (resolved, *resolved.parents):
            broken.append(f"{target}: outside the repository")
    assert not broken, f"{document.relative_to(ROOT)}: " + "; ".join(broken)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_document_mentions_anything_outside_the_repository(document: Path) -> None:
    text = document.read_text(encoding="utf-8")
    assert "../shared" not in text and "/work/shared" not in text


def test_the_readme_links_every_docs_page() -> None:
    linked = {(ROOT / t.partition("#")[0]).resolve() for t in relative_links(ROOT / "README.md")}
    missing = [p.name for p in DOCUMENTS[1:] if p.resolve() not in linked]
    assert not missing, f"README.md links no {missing}"


def test_the_slack_app_page_lists_the_events_the_manifest_subscribes_to() -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text())
    subscribed = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    page = (ROOT / "docs" / "slack-app.md").read_text()
    table = page.split("\n## Events\n", 1)[1].split("\n## ", 1)[0]
    listed = {e for row in re.findall(r"^\| (`.+?`) \|", table, re.MULTILINE) for e in re.findall(r"`([a-z_.]+)`", row)}
    assert listed == subscribed


def test_the_postmortem_template_the_docs_name_exists() -> None:
    page = (ROOT / "docs" / "configuration.md").read_text()
    named = set(re.findall(r"`(bot/[\w/.]+\.j2)`", page))
    assert named == {"bot/domain/templates/postmortem.md.j2"}
    assert all((ROOT / path).is_file() for path in named)
