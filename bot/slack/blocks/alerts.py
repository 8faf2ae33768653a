"""Alert notices in a channel: one alert group's notice, and a storm's digest of them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from bot.domain.notice_digests import AlertNotice, NoticeDigest
from bot.domain.policy import Policy
from bot.slack.blocks.primitives import MAX_SECTION_TEXT, Blocks, context, section, slack_date
from bot.slack.mrkdwn import escape, safe_url, trim
from bot.slack.mrkdwn import link as mrkdwn_link

DIGEST_SERVICES = 8  # services a digest counts by name; the rest are summed


def alert_notice(notice: AlertNotice) -> tuple[str, Blocks]:
    """A new alert group's notice: its title, severity, who it pages and a link to its source."""
    line = f":bell: *Alert firing:* {_described(notice)}"
    return line, [section(line)]


def alert_digest(notices: NoticeDigest, policy: Policy) -> tuple[str, Blocks]:
    """A storm's alert notices to one channel in one message: how many fired, by severity and by service,
    and the first few; edited as more arrive."""
    groups = "alert group" if notices.total == 1 else "alert groups"
    head = (
        f":bell: *Alert storm: {notices.total} more {groups} fired* since {slack_date(notices.opened_at, '{time}')} "
        f"(the latest at {slack_date(notices.last_at, '{time}')}), gathered here instead of a message each. "
        "Paging goes on as each one's route says."
    )
    counts = (
        f"*By severity:* {counts_in_order(notices.by_severity, policy.severity_names)}\n"
        f"*By service:* {_services(notices.by_service)}"
    )
    named = "\n".join(f"• {_described(n)}" for n in notices.first)
    body: Blocks = [section(head), section(counts), section(f"*The first {len(notices.first)}:*\n{named}")]
    more = f"… and {notices.unnamed} more. " if notices.unnamed else ""
    body.append(context(f"{more}This message is updated as alerts arrive."))
    titles = "; ".join(escape(n.title) for n in notices.first)
    text = f":bell: Alert storm: {notices.total} more {groups} fired. {counts.replace(chr(10), ' · ')}. {titles}"
    return trim(text, MAX_SECTION_TEXT), body


def _described(notice: AlertNotice) -> str:
    if notice.silenced is not None:
        action = f"silenced by {escape(notice.silenced)}: nobody is paged"
    elif notice.escalation_policy:
        action = f"paging `{escape(notice.escalation_policy)}`"
    else:
        action = "not routed to any escalation policy"
    source = ""
    if notice.url:
        source = (
            f" · {mrkdwn_link(notice.url, 'source')}"
            if safe_url(notice.url)
            else " · (its source URL was not a plain http(s) link)"
        )
    return f"{escape(notice.title)} · *{escape(notice.severity)}* · {action}{source}"


def counts_in_order(counts: Counter[str], order: Sequence[str]) -> str:
    """`SEV1 3 · SEV2 20`, in the policy's order (any other severity after)."""
    rank = {name: index for index, name in enumerate(order)}
    ordered = sorted(counts, key=lambda name: (rank.get(name, len(rank)), name))
    return " · ".join(f"{escape(name)} {counts[name]}" for name in ordered)


def _services(counts: Counter[str | None]) -> str:
    """The services with the most alerts first, then how many others; `no service` for unrouted ones."""
    ranked = counts.most_common()
    shown = [f"{escape(name) if name else '_no service_'} {n}" for name, n in ranked[:DIGEST_SERVICES]]
    rest = ranked[DIGEST_SERVICES:]
    if rest:
        shown.append(f"{len(rest)} other services {sum(n for _, n in rest)}")
    return " · ".join(shown)
