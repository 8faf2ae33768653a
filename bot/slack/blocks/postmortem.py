"""Block Kit for the postmortem: the short message beside a published draft, with its headline figures
and what to do next. Pure, like the rest of bot/slack/blocks/, whose helpers it uses."""

from __future__ import annotations

from bot.domain.incidents import Incident
from bot.domain.postmortem import Publication, figures
from bot.slack.blocks.primitives import Blocks, button, context, incident_title_line, section
from bot.slack.ids import SLASH_COMMAND, Action
from bot.slack.mrkdwn import code, escape, link


def postmortem_posted(incident: Incident, publication: Publication) -> tuple[str, Blocks]:
    """The short message beside the draft: where it is, the headline figures, what to do next."""
    if publication.kind == "canvas":
        where = "in this channel's canvas (the canvas icon at the top of the channel)"
    else:
        name = f"{incident.reference}-postmortem-v{publication.version}.md"
        where = link(publication.link, name)
    if publication.version == 1:
        head = f":memo: *The postmortem draft for {incident_title_line(incident)} is ready* {where}."
    else:
        superseded = f"; it supersedes {escape(publication.superseded)}" if publication.superseded else ""
        head = (
            f":memo: *The postmortem draft for {incident_title_line(incident)} was regenerated* "
            f"(version {publication.version}) {where}{superseded}."
        )
    numbers = " · ".join(f"{f.name}: {f.text}" for f in figures(incident) if f.value is not None)
    ask = (
        "Fill in the root cause, what went well and what could be improved; add action items with "
        f"{code(f'{SLASH_COMMAND} followup <text> [@owner] [due YYYY-MM-DD]')} or the button."
    )
    blocks: Blocks = [section(head)]
    if numbers:
        blocks.append(context(numbers))
    blocks += [
        section(ask),
        {
            "type": "actions",
            "elements": [
                button("Add follow-up", Action.FOLLOW_UP_ADD, str(incident.id)),
                button("Postmortem done", Action.POSTMORTEM_DONE, str(incident.id)),
            ],
        },
    ]
    return f"{head}\n{numbers}", blocks
