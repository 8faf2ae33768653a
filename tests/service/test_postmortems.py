"""The postmortem draft published in the incident channel: the channel canvas, edited in place when
regenerated; a Markdown file where canvases are refused, each new version naming the one it supersedes;
a canvas kept current quietly as follow-ups change."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.domain.errors import SlackRefused, UserError
from bot.domain.incidents import Incident, TimelineKind
from bot.domain.policy import Policy
from bot.domain.postmortem import Publication, default_template
from bot.slack import messages
from bot.usecases.ports import UnitOfWorkFactory
from bot.usecases.postmortems import CANVAS, FILE, PostmortemService
from tests.service.fakes import FakeClock, ScriptedSlack, incident_in_channel, sqlite_database, timeline_texts

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


class Publishing:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self.uow, self.slack = uow, ScriptedSlack()
        self.service = PostmortemService(
            uow=uow, slack=self.slack, policy=Policy(), clock=FakeClock(NOW), template=default_template(),
            messages=messages,
        )  # fmt: skip

    async def incident(self) -> Incident:
        return await incident_in_channel(self.uow, now=NOW)

    async def notes(self, incident: Incident) -> list[str]:
        return await timeline_texts(self.uow, incident.id, TimelineKind.POSTMORTEM)


@pytest.fixture
async def publishing(tmp_path: Path) -> AsyncIterator[Publishing]:
    async with sqlite_database(tmp_path) as uow:
        yield Publishing(uow)


async def test_the_draft_is_the_channel_canvas_and_regenerating_edits_it(publishing: Publishing) -> None:
    incident = await publishing.incident()
    first = await publishing.service.publish(incident, actor="U0ALICE")
    again = await publishing.service.publish(incident, actor="U0ALICE")
    assert first == Publication(CANVAS, "F0CANVAS", 1) and again == Publication(CANVAS, "F0CANVAS", 2)
    (created,) = publishing.slack.made("create_channel_canvas")
    assert created.where == "C0INC1" and created.text == f"{incident.reference} postmortem (draft)"
    assert [c.where for c in publishing.slack.made("replace_canvas")] == ["F0CANVAS"]
    assert [c.where for c in publishing.slack.made("post")] == ["C0INC1", "C0INC1"]  # a summary each time
    assert await publishing.notes(incident) == [
        "Postmortem draft posted as the channel canvas",
        "Postmortem draft regenerated (version 2) as the channel canvas",
    ]


async def test_where_canvases_are_refused_the_draft_is_a_file_and_stays_one(publishing: Publishing) -> None:
    incident = await publishing.incident()
    publishing.slack.refuse("create_channel_canvas", SlackRefused("not_allowed_token_type"))
    first = await publishing.service.publish(incident, actor="U0ALICE")
    publishing.slack.allow("create_channel_canvas")
    second = await publishing.service.publish(incident, actor=None)
    assert (first.kind, first.version, first.superseded) == (FILE, 1, None)
    assert (second.kind, second.version, second.superseded) == (FILE, 2, "version 1")
    assert len(publishing.slack.made("create_channel_canvas")) == 1  # not tried again: versions stay together
    uploads = publishing.slack.made("upload")
    assert [u.extra["filename"] for u in uploads] == [f"{incident.reference}-postmortem-v{n}.md" for n in (1, 2)]
    assert all(u.where == "C0INC1" for u in uploads)
    await publishing.service.refresh(incident.id)  # a file is left alone between versions
    assert len(publishing.slack.made("upload")) == 2 and publishing.slack.made("replace_canvas") == []


async def test_a_canvas_made_by_hand_takes_the_draft(publishing: Publishing) -> None:
    incident = await publishing.incident()
    publishing.slack.refuse("create_channel_canvas", SlackRefused("channel_canvas_already_exists"))
    publishing.slack.canvases["C0INC1"] = "F0HANDMADE"
    published = await publishing.service.publish(incident, actor="U0ALICE")
    assert published == Publication(CANVAS, "F0HANDMADE", 1)
    assert [c.where for c in publishing.slack.made("replace_canvas")] == ["F0HANDMADE"]


async def test_follow_ups_changing_refresh_the_canvas_quietly(publishing: Publishing) -> None:
    incident = await publishing.incident()
    await publishing.service.refresh(incident.id)  # nothing published yet: nothing to refresh
    assert publishing.slack.calls == []
    await publishing.service.publish(incident, actor="U0ALICE")
    publishing.slack.calls.clear()
    await publishing.service.refresh(incident.id)
    assert [c.method for c in publishing.slack.calls] == ["replace_canvas"]  # no post, no new version
    assert len(await publishing.notes(incident)) == 1
    publishing.slack.refuse("replace_canvas", SlackRefused("canvas_not_found"))
    await publishing.service.refresh(incident.id)  # logged, not raised: the follow-up stands


async def test_a_canvas_refused_after_it_was_made_is_an_error_not_a_duplicate_file(publishing: Publishing) -> None:
    incident = await publishing.incident()
    await publishing.service.publish(incident, actor="U0ALICE")
    publishing.slack.refuse("replace_canvas", SlackRefused("canvas_deleted"))
    with pytest.raises(SlackRefused):
        await publishing.service.publish(incident, actor="U0ALICE")
    assert publishing.slack.made("upload") == [] and len(await publishing.notes(incident)) == 1


async def test_an_incident_without_a_channel_has_nowhere_to_publish(publishing: Publishing) -> None:
    incident = await incident_in_channel(publishing.uow, now=NOW, channel_id=None, header_ts=None)
    with pytest.raises(UserError, match="no channel"):
        await publishing.service.publish(incident, actor="U0ALICE")
    assert publishing.slack.calls == []
    assert "Checkout errors" in await publishing.service.draft(incident.id)  # `tocsin postmortem` still drafts
