"""The status page as an Atom feed (`/status/feed.atom`, built with feedgen): one entry per incident shown
(open, or resolved within the page's history), its public updates newest first, so a feed reader shows an
incident again each time it is updated. Only published words appear, HTML-escaped."""

from __future__ import annotations

import html

from feedgen.feed import FeedGenerator

from bot.domain.status_page import PublicIncident, StatusSnapshot
from bot.entrypoints.status.statuspage_json import EPOCH


def atom_feed(snapshot: StatusSnapshot, *, page_url: str) -> bytes:
    """The feed's bytes (UTF-8 XML); the same snapshot always gives the same bytes."""
    feed = FeedGenerator()
    feed.id(page_url)
    feed.title(f"{snapshot.title}: incidents")
    feed.link(href=page_url, rel="alternate", type="text/html")
    feed.link(href=f"{page_url}/feed.atom", rel="self", type="application/atom+xml")
    feed.author({"name": snapshot.title})
    feed.generator("Tocsin")
    feed.updated(snapshot.updated_at or EPOCH)
    for incident in sorted(snapshot.incidents, key=lambda i: i.updated_at):
        entry = feed.add_entry()  # feedgen puts each new entry first: the newest ends up on top
        entry.id(f"{page_url}#incident-{incident.public_id}")
        entry.title(f"{incident.title} ({incident.status.label})")
        entry.link(href=f"{page_url}#incident-{incident.public_id}", rel="alternate", type="text/html")
        entry.published(incident.created_at)
        entry.updated(incident.updated_at)
        entry.content(_content(incident), type="html")
    return bytes(feed.atom_str(pretty=True))


def _content(incident: PublicIncident) -> str:
    """The incident's updates as HTML (every word escaped here; the feed escapes the HTML once more)."""
    parts = []
    for update in reversed(incident.updates):
        when = update.posted_at.strftime("%Y-%m-%d %H:%M UTC")
        body = "<br>".join(html.escape(line) for line in update.body.splitlines())
        parts.append(f"<p><small>{when}</small><br><strong>{update.status.label}</strong> - {body}</p>")
    return "".join(parts)
