"""The postmortem draft's "Related incidents" section: the linked incidents, never a private one in a
public incident's draft, and no section when none are linked."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from bot.domain.postmortem import render_draft
from bot.domain.related import Candidate
from tests.unit.test_postmortem import POLICY, realistic_facts
from tests.values import BUILT_AT, an_incident


def linked(number: int, title: str, *, private: bool = False) -> Candidate:
    declared = BUILT_AT - timedelta(days=30)
    incident = an_incident(
        id=100 + number,
        number=number,
        title=title,
        private=private,
        declared_at=declared,
        resolved_at=declared + timedelta(hours=2),
    )
    return Candidate(incident, open_follow_ups=2)


def test_the_linked_incidents_are_listed_but_a_private_one_only_in_a_private_draft() -> None:
    facts = realistic_facts(events=20)
    related = [linked(3, "Checkout pool exhausted"), linked(5, "Leaked key QX7", private=True)]
    public = render_draft(replace(facts, related=related), POLICY)
    headings = re.findall(r"^## (.+)$", public, re.MULTILINE)
    assert headings[-2:] == ["Related incidents", "Links"]
    assert "- INC-3: Checkout pool exhausted — SEV2" in public and "lasted 2h, 2 open follow-up(s)" in public
    assert "INC-5" not in public and "QX7" not in public
    private = render_draft(replace(facts, incident=replace(facts.incident, private=True), related=related), POLICY)
    assert "INC-5: Leaked key QX7" in private


def test_without_links_there_is_no_section() -> None:
    assert "## Related incidents" not in render_draft(realistic_facts(events=20), POLICY)
