"""The bookmarks an incident channel should have, from plain data, and what to change to get there from
the ones Tocsin keeps. Pure.

Each bookmark has a kind and a key (a runbook's name, an issue's key…) that say which thing it stands for,
so a thing whose link or title changed is edited in place rather than added again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

MAX_TITLE = 80  # bookmark titles are short labels; Slack cuts long ones in the channel's bar


@dataclass(frozen=True, slots=True)
class Bookmark:
    """A bookmark as it should be: what it stands for (`kind`, `key`), its label, link and emoji."""

    kind: str
    key: str
    title: str
    link: str
    emoji: str = ""


@dataclass(frozen=True, slots=True)
class KeptBookmark:
    """A bookmark Tocsin made: what it stands for, Slack's id for it, and its title and link as made."""

    kind: str
    key: str
    bookmark_id: str
    title: str
    link: str


@dataclass(frozen=True, slots=True)
class ChannelThings:
    """What an incident channel's bookmarks are made from (links Tocsin knows; None for those it has not)."""

    bridge_url: str | None = None
    header_link: str | None = None
    alert_link: str | None = None  # the dashboard or source of the alert the incident was declared from
    fields: Sequence[tuple[str, str]] = ()  # (label, link) of the incident type's URL fields that are set
    runbooks: Sequence[tuple[str, str, str]] = ()  # (name, title, link)
    postmortem_link: str | None = None
    status_link: str | None = None
    issues: Sequence[tuple[str, str]] = ()  # (key, link) of the follow-ups' tracker issues
    previous_channel_link: str | None = None  # a continuation channel's way back


@dataclass(frozen=True, slots=True)
class BookmarkPlan:
    """What to change: bookmarks to add, kept ones to edit (with how they should be), kept ones to remove."""

    add: list[Bookmark] = field(default_factory=list)
    edit: list[tuple[KeptBookmark, Bookmark]] = field(default_factory=list)
    remove: list[KeptBookmark] = field(default_factory=list)

    def __bool__(self) -> bool:
        """Whether anything needs changing."""
        return bool(self.add or self.edit or self.remove)


def wanted(things: ChannelThings) -> list[Bookmark]:
    """The bookmarks the channel should have, in the order people look for them."""
    found: list[Bookmark] = []
    if things.bridge_url:
        found.append(Bookmark("bridge", "bridge", "Join the call", things.bridge_url, ":telephone_receiver:"))
    if things.header_link:
        found.append(Bookmark("header", "header", "Incident header", things.header_link, ":pushpin:"))
    if things.alert_link:
        found.append(Bookmark("alert", "alert", "Alert source", things.alert_link, ":chart_with_upwards_trend:"))
    found += [Bookmark("field", label[:200], _title(label), link, ":link:") for label, link in things.fields]
    found += [
        Bookmark("runbook", name, _title(f"Runbook: {title}"), link, ":books:") for name, title, link in things.runbooks
    ]
    if things.postmortem_link:
        found.append(Bookmark("postmortem", "postmortem", "Postmortem draft", things.postmortem_link, ":memo:"))
    if things.status_link:
        found.append(Bookmark("status", "status", "Status page", things.status_link, ":globe_with_meridians:"))
    found += [
        Bookmark("issue", key, _title(f"Follow-up {key}"), link, ":ballot_box_with_check:")
        for key, link in things.issues
    ]
    if things.previous_channel_link:
        found.append(
            Bookmark("previous", "previous", "Previous channel", things.previous_channel_link, ":file_cabinet:")
        )
    return found


def plan(want: Sequence[Bookmark], kept: Sequence[KeptBookmark]) -> BookmarkPlan:
    """The changes that turn the `kept` bookmarks into the `want`ed ones."""
    by_thing = {(k.kind, k.key): k for k in kept}
    wanted_things = {(w.kind, w.key) for w in want}
    result = BookmarkPlan()
    for bookmark in want:
        made = by_thing.get((bookmark.kind, bookmark.key))
        if made is None:
            result.add.append(bookmark)
        elif (made.title, made.link) != (bookmark.title, bookmark.link):
            result.edit.append((made, bookmark))
    result.remove.extend(k for k in kept if (k.kind, k.key) not in wanted_things)
    return result


def _title(text: str) -> str:
    return text if len(text) <= MAX_TITLE else text[: MAX_TITLE - 1].rstrip() + "…"
