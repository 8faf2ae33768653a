"""Handover messages: a handoff's digest (for the incoming person, the outgoing one, or the schedule's
handover channel) and the report of a user group Slack would not set. User text is escaped."""

from __future__ import annotations

from datetime import datetime

from bot.domain.durations import format_duration
from bot.domain.handovers import Digest, FiringAlert, HandoverNote, OpenIncident, ShiftPage
from bot.slack.blocks.primitives import Blocks, channel_link, context, section, slack_date
from bot.slack.mrkdwn import escape, mention

SHOWN = 12  # lines a part of the digest lists before "and N more"
UNREACHABLE = (
    ":warning: You have no verified way to be reached beyond Slack: a page that comes while you are away from "
    "Slack will not wake you. Add one with `/incident oncall contact …` before you need it."
)


def _when(at: datetime) -> str:
    return slack_date(at, "{date_short_pretty} {time}")


def _listed(lines: list[str]) -> str:
    more = len(lines) - SHOWN
    shown = lines[:SHOWN] + ([f"… and {more} more"] if more > 0 else [])
    return "\n".join(f"• {line}" for line in shown)


def _incident(incident: OpenIncident) -> str:
    return (
        f"{channel_link(incident.channel_id, escape(incident.reference))} {escape(incident.reference)} "
        f"{escape(incident.severity)}, {escape(incident.status)}: {escape(incident.title)}"
    )


def _page(page: ShiftPage) -> str:
    said = f"{escape(page.severity)} {escape(page.title)} ({_when(page.created_at)})"
    took = page.time_to_acknowledge
    if took is None:
        return f"{said}: *not acknowledged* ({escape(page.status)})"
    return f"{said}: acknowledged by {mention(page.acknowledged_by)} in {format_duration(took)}"


def _alert(alert: FiringAlert) -> str:
    return f"{escape(alert.title)} ({escape(alert.source)}), firing since {_when(alert.since)}"


def _note(note: HandoverNote) -> str:
    return f"{mention(note.author)} ({_when(note.at)}): {escape(note.text)}"


def _who(user: str | None) -> str:
    return mention(user) if user else "nobody"


def _opening(digest: Digest, reader: str | None) -> str:
    schedule = f"*{escape(digest.schedule)}*"
    if reader is not None and reader == digest.incoming:
        return f":wave: You are on call for {schedule} from now, taking over from {_who(digest.outgoing)}."
    if reader is not None and reader == digest.outgoing:
        taker = mention(digest.incoming) if digest.incoming else "nobody (the schedule has a gap)"
        return f":checkered_flag: Your shift on {schedule} has ended; {taker} has taken over. Thank you!"
    return (
        f":arrows_counterclockwise: On-call for {schedule} passed from {_who(digest.outgoing)} "
        f"to {_who(digest.incoming)}."
    )


def digest_message(digest: Digest, *, reader: str | None, unreachable: bool = False) -> tuple[str, Blocks]:
    """A handoff's digest for `reader` (None: the handover channel), with the unreachable warning."""
    opening = _opening(digest, reader)
    blocks: Blocks = [section(opening)]
    if unreachable:
        blocks.append(section(UNREACHABLE))
    shift = f"the shift since {_when(digest.since)}" if digest.since else "the shift"
    if digest.incidents:
        private = [i for i in digest.incidents if i.private]
        lines = [_incident(i) for i in digest.incidents if not i.private]
        if private:  # a private incident says nothing outside its channel, but that there is one
            lines.append(f"{len(private)} private incident{'s' if len(private) > 1 else ''}")
        blocks.append(section(f"*Open incidents ({len(digest.incidents)})*\n{_listed(lines)}"))
    if digest.pages:
        acked, missed = digest.acknowledged, digest.unacknowledged
        heading = f"*Pages in {shift}: {len(acked)} acknowledged, {len(missed)} not*"
        blocks.append(section(f"{heading}\n{_listed([_page(p) for p in missed + acked])}"))
    if digest.alerts:
        blocks.append(
            section(f"*Alerts still firing ({len(digest.alerts)})*\n{_listed([_alert(a) for a in digest.alerts])}")
        )
    if digest.notes:
        blocks.append(section(f"*Handover notes*\n{_listed([_note(n) for n in digest.notes])}"))
    if digest.quiet:
        blocks.append(section(f"A quiet handover: no open incidents, no pages in {shift}, no alerts firing, no notes."))
    how = "leave a note with `/incident oncall handover &lt;note&gt;`"
    blocks.append(context(f"Handoff at {_when(digest.at)} · {how}"))
    text = opening + (f" {UNREACHABLE}" if unreachable else "")
    return text, blocks


def sync_failed_message(schedule: str, usergroup: str, error: str) -> tuple[str, Blocks]:
    """The report of a user group Slack would not set to whoever is on call."""
    text = (
        f":warning: I could not set the user group {escape(usergroup)} to whoever is on call for "
        f"*{escape(schedule)}* (Slack said `{escape(error)}`, several times). Mentioning it may reach the wrong "
        "person until this is fixed: check that the group exists, that Tocsin has the `usergroups:write` scope, "
        "and that the workspace lets apps manage user groups."
    )
    return text, [section(text)]


class HandoverBlocks:
    """The HandoverViews port (bot/usecases/handover_ports.py)."""

    def digest(self, digest: Digest, *, reader: str | None, unreachable: bool = False) -> tuple[str, Blocks]:
        """A handoff's digest for `reader` (None: the handover channel)."""
        return digest_message(digest, reader=reader, unreachable=unreachable)

    def sync_failed(self, schedule: str, usergroup: str, error: str) -> tuple[str, Blocks]:
        """A schedule's user group could not be set."""
        return sync_failed_message(schedule, usergroup, error)
