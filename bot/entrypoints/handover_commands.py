"""`/incident oncall handover <note>`: a note for the next handover of every schedule the person is on
call for now (refused politely when they are not on call)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.domain.errors import UsageError
from bot.domain.handovers import MAX_NOTE
from bot.domain.policy import Policy
from bot.entrypoints.command_families import CommandFamily
from bot.entrypoints.command_types import Subcommand
from bot.slack.mrkdwn import escape, plain_from_slack

if TYPE_CHECKING:  # types only
    from bot.entrypoints.commands import Invocation

USAGE = "oncall handover <note>"


@dataclass(frozen=True, slots=True)
class AddHandoverNote:
    """Leave a note for the next handover (the text as the person typed it, plain)."""

    text: str


def parse_handover(rest: str, policy: Policy, usage: str) -> AddHandoverNote:
    """`/incident oncall handover <note>`."""
    text = plain_from_slack(rest).strip()
    if not text:
        raise UsageError("Write the note after `handover`: what the next person on call should know.", usage=usage)
    if len(text) > MAX_NOTE:
        raise UsageError(f"A handover note is at most {MAX_NOTE} characters (this one is {len(text)}).", usage=usage)
    return AddHandoverNote(text)


def handover_family(add_note: Callable[..., Awaitable[list[str]]]) -> CommandFamily:
    """The family, leaving notes with `add_note(actor=…, text=…)` (Handoffs.add_note)."""

    async def handle(invocation: Invocation, parsed: AddHandoverNote) -> None:
        names = await add_note(actor=invocation.actor, text=parsed.text)
        if not names:
            await invocation.reply(
                "You are not on call for any schedule right now, so there is no handover to leave a note for. "
                "(`/incident oncall` shows who is.)"
            )
            return
        listed = ", ".join(f"*{escape(n)}*" for n in names)
        await invocation.reply(f":memo: Noted for the next handover of {listed}: it goes in the handoff's digest.")

    return CommandFamily(
        subcommands=(Subcommand("oncall handover", USAGE, "leave a note for the next person on call", True),),
        oncall={"handover": parse_handover},
        handlers={AddHandoverNote: handle},
    )
