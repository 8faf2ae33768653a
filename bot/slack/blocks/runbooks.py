"""Runbooks in the channel: their checklist messages and the list of those that match."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.domain.incidents import Incident
from bot.domain.runbooks import Runbook, Step
from bot.slack.blocks.primitives import (
    MAX_BLOCKS_MESSAGE,
    MAX_OPTION_TEXT,
    Blocks,
    _plain,
    _text,
    button,
    incident_title_line,
    section,
)
from bot.slack.ids import SLASH_COMMAND
from bot.slack.mrkdwn import code, escape, trim

RUNBOOK_BLOCK = "rb"
RUNBOOK_STEPS = "runbook_steps"
RUNBOOK_POST = "runbook_post"
CHECKBOX_OPTIONS = 10


def _step_option(runbook: Runbook, step: Step) -> dict[str, Any]:
    text = escape(step.text)
    option: dict[str, Any] = {"text": {"type": "mrkdwn", "text": trim(text, MAX_OPTION_TEXT, "…")}, "value": step.id}
    if len(text) > MAX_OPTION_TEXT:
        option["description"] = _plain(step.text[MAX_OPTION_TEXT - 1 :], MAX_OPTION_TEXT)
    return option


def runbook_messages(incident_id: int, runbook: Runbook, ticked: set[str]) -> list[tuple[str, Blocks]]:
    """A runbook as checklist messages: headings as sections, steps as checkbox groups of at most 10,
    split so no message has more than 50 blocks. Each group's block_id names incident, runbook, group."""
    title = f":clipboard: *Runbook: {escape(runbook.meta.title)}* · tick steps as you go; ticks go on the timeline"
    units: list[Blocks] = []  # a heading with its step groups stays together when it fits
    group = 0
    for part in runbook.sections:
        unit: Blocks = [section(f"*{escape(part.heading)}*")] if part.heading else []
        for start in range(0, len(part.steps), CHECKBOX_OPTIONS):
            chunk = part.steps[start : start + CHECKBOX_OPTIONS]
            options = [_step_option(runbook, step) for step in chunk]
            element: dict[str, Any] = {"type": "checkboxes", "action_id": RUNBOOK_STEPS, "options": options}
            chosen = [o for o, step in zip(options, chunk, strict=True) if step.id in ticked]
            if chosen:
                element["initial_options"] = chosen
            group += 1
            unit.append(
                {
                    "type": "actions",
                    "block_id": f"{RUNBOOK_BLOCK}:{incident_id}:{runbook.name}:{group}",
                    "elements": [element],
                }
            )
        units.append(unit)
    messages: list[Blocks] = [[section(title)]]
    for unit in units:
        if len(messages[-1]) + len(unit) > MAX_BLOCKS_MESSAGE:
            messages.append([])
        for block in unit:
            if len(messages[-1]) >= MAX_BLOCKS_MESSAGE:
                messages.append([])
            messages[-1].append(block)
    done = len(ticked)
    total = len(runbook.steps)
    text = f"Runbook: {escape(runbook.meta.title)} ({done} of {total} steps done)"
    return [(text if n == 0 else f"{text} (part {n + 1})", blocks) for n, blocks in enumerate(messages)]


def runbook_list(incident: Incident, runbooks: Sequence[Runbook], posted: set[str]) -> tuple[str, Blocks]:
    """`/incident runbook`: the matching runbooks, each with a button to post it."""
    if not runbooks:
        text = f"No runbook matches {incident.reference}. {code(f'{SLASH_COMMAND} runbook <name>')} posts any runbook."
        return text, [section(text)]
    blocks: Blocks = [section(f"*Runbooks for {incident_title_line(incident)}*")]
    for runbook in runbooks[:45]:
        state = "posted" if runbook.name in posted else f"{len(runbook.steps)} steps"
        blocks.append(
            {
                "type": "section",
                "block_id": f"rbpost:{incident.id}:{runbook.name}"[:255],
                "text": _text(f"*{escape(runbook.meta.title)}* · {code(runbook.name)} · {state}"),
                "accessory": button("Post", RUNBOOK_POST, runbook.name),
            }
        )
    return f"{len(runbooks)} runbooks match {incident.reference}", blocks
