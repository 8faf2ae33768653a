"""The calendar feeds: `GET /oncall/<schedule>.ics?token=…` and `GET /oncall/people/<user>.ics?token=…`,
iCalendar (RFC 5545) built with the icalendar library, so Google Calendar or Outlook can subscribe.

One VEVENT per shift, its UID stable for as long as the shift is the same (so a client updates rather than
duplicates), DTSTART/DTEND in UTC, SUMMARY "On call: <schedule>" (overrides marked). An unknown schedule and
a wrong token get the same 404, so the answer says nothing about which schedules exist."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import UTC, timedelta

from aiohttp import web
from icalendar import Calendar, Event

from bot.usecases.calendars import Calendars, Feed, FeedShift

PRODID = "-//Tocsin//On-call shifts//EN"
REFRESH = timedelta(hours=1)  # how often a client should fetch the feed again (RFC 7986 REFRESH-INTERVAL)
_NOT_FOUND = "No such calendar feed.\n"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def add_calendar_routes(app: web.Application, calendars: Calendars) -> None:
    """Serve the schedule and person feeds."""
    app.router.add_get("/oncall/people/{user}.ics", _person(calendars))
    app.router.add_get("/oncall/{schedule}.ics", _schedule(calendars))


def _schedule(calendars: Calendars) -> Handler:
    async def schedule_feed(request: web.Request) -> web.Response:
        feed = await calendars.schedule_feed(request.match_info["schedule"], request.query.get("token", ""))
        return _answer(feed, personal=False)

    return schedule_feed


def _person(calendars: Calendars) -> Handler:
    async def person_feed(request: web.Request) -> web.Response:
        feed = await calendars.person_feed(request.match_info["user"], request.query.get("token", ""))
        return _answer(feed, personal=True)

    return person_feed


def _answer(feed: Feed | None, *, personal: bool) -> web.Response:
    headers = {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"}
    if feed is None:
        return web.Response(status=404, text=_NOT_FOUND, headers=headers)
    return web.Response(
        body=ics(feed, personal=personal), content_type="text/calendar", charset="utf-8", headers=headers
    )


def ics(feed: Feed, *, personal: bool) -> bytes:
    """The feed as an iCalendar document."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", feed.name if personal else f"On call: {feed.name}")
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")  # the same, as Outlook reads it
    for shift in feed.shifts:
        calendar.add_component(_event(shift, feed))
    document: bytes = calendar.to_ical()
    return document


def _event(shift: FeedShift, feed: Feed) -> Event:
    entry = Event()
    entry.add("uid", uid(shift))
    entry.add("dtstamp", feed.made_at.astimezone(UTC))
    entry.add("dtstart", shift.start.astimezone(UTC))
    entry.add("dtend", shift.end.astimezone(UTC))
    marked = " (override)" if shift.override else ""
    entry.add("summary", f"On call: {shift.schedule}{marked}")
    how = "an override" if shift.override else "the rotation"
    entry.add("description", f"{shift.user} is on call for {shift.schedule} ({how}).")
    entry.add("categories", ["On call", "Override"] if shift.override else ["On call"])
    entry.add("transp", "TRANSPARENT")  # being on call does not make someone busy
    return entry


def uid(shift: FeedShift) -> str:
    """A stable UID for a shift: the same schedule, person, start and kind give the same one."""
    key = f"{shift.schedule}\x00{shift.user}\x00{shift.start.astimezone(UTC).isoformat()}\x00{shift.override}"
    return f"{hashlib.sha256(key.encode()).hexdigest()[:32]}@tocsin"
