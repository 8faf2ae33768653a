"""Outgoing webhooks: each policy target is a durable subscriber of the event log that POSTs the events it
wants, signed per Standard Webhooks, to its receiver.

- The body is the event's envelope (`DomainEvent.as_json`, what the API's /events returns). `webhook-id`
  is the event's id, the same on every try, so a receiver deduplicates on it; `webhook-timestamp` is the
  time of this try, and `webhook-signature` is `v1,<base64 HMAC-SHA256>` of `id.timestamp.body` under the
  target's `whsec_` secret (signed by `standardwebhooks`, the reference implementation).
- A 2xx delivers. No answer (a timeout, a refused or dropped connection), 408, 429 or a 5xx fails the try:
  the event log hands the event over again with backoff (1 s doubling to 10 minutes), the rest of that
  incident's events waiting behind it. Any other answer (a 3xx, which is not followed, or a 4xx) rejects
  the event for good: it is dropped, not retried. An event still failing 24 hours after it happened is
  given up, so each is tried for at least a day.
- An event of a private incident is skipped unless the target has `include_private`: no request, and
  nothing counted where anyone could see it.
- A receiver that fails every try for DOWN_AFTER is said once in the broadcast channel, and once more when
  it answers again (ReceiverWatch), whichever replica sees it first.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from standardwebhooks.webhooks import Webhook

from bot.domain.errors import ConfigError, slack_error
from bot.domain.events import DomainEvent, EventKind
from bot.domain.policy import Policy
from bot.domain.webhook_policy import WebhookTarget, host_of, secret_problem
from bot.runtime.metrics import Metrics
from bot.usecases.message_ports import Messages
from bot.usecases.ports import Clock, Slack, UnitOfWorkFactory

log = logging.getLogger(__name__)

GIVE_UP_AFTER = timedelta(hours=24)  # an event still failing this long after it happened is given up
DOWN_AFTER = timedelta(minutes=5)  # failing this long (every try) is said in the broadcast channel
REPORT_HOURS = timedelta(hours=1)  # the once-only keys' granularity: see ReceiverWatch
RETRIED = frozenset({408, 429})  # besides 5xx: "not now" answers
# Claimed at once by the event log's dispatch: at most two rounds of its 8 concurrent sends, so even a
# receiver that lets every request run into the sender's 10 s timeout finishes well within the claim's
# 60 s lease (with 50, it would not, and another replica would send the same events again meanwhile).
BATCH = 16


class Outcome(StrEnum):
    """`tocsin_webhook_deliveries_total`'s `outcome`: what became of one try."""

    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # no answer, 408, 429 or 5xx: tried again later
    REJECTED = "rejected"  # any other answer: dropped, not tried again
    EXPIRED = "expired"  # failed again 24 h after the event happened: given up


class WebhookSender(Protocol):
    """Sends one signed webhook request (bot/runtime/webhook_sender.py over HTTP)."""

    async def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        """POST `body` to `url`; the status the receiver answered. Raises when it gave no answer (timeout,
        refused or dropped connection, an address it may not reach)."""
        ...


class ReceiverFailing(Exception):
    """A try failed in a way worth trying again (the event log hands the event over again later)."""


def _hour(when: datetime) -> str:
    return when.strftime("%Y%m%d%H")


@dataclass
class _Stretch:
    """A run of failed tries (as this replica saw them), since its first."""

    since: datetime
    reported: bool | None = None  # None: not yet; False: being reported; True: reported (by whichever replica)


@dataclass
class ReceiverWatch:
    """Says in the broadcast channel, once, that a receiver has failed every try for DOWN_AFTER, and once
    more when it answers again.

    Replicas each see some of the tries, so each keeps its own stretch of failures; the one that first sees
    DOWN_AFTER of them says so, and a durable once-only key (`first_delivery`) keeps the others quiet. The
    key is `webhook-down:<name>:<hour the stretch began>`, and a report takes both that hour's key and the
    next hour's, in one transaction: replicas whose stretches began within an hour of each other (however an
    hour boundary falls between them) always share one of the two keys, so one of them reports. The
    recovery is reported the same way under `webhook-up:…` keys, by a replica that saw the stretch reported.
    Said the other way: a receiver that fails again within an hour or so of a reported outage is not
    reported again (a flapping receiver is said about at most once an hour or two).
    """

    name: str
    where: str  # host_of(url): never the path or query, which may carry a token
    channel: str | None  # the broadcast channel (None: the log says it, nothing is posted)
    slack: Slack
    messages: Messages
    uow: UnitOfWorkFactory
    clock: Clock
    _stretch: _Stretch | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def reported_since(self) -> datetime | None:
        """The start of the current stretch of failures (as this replica saw it), once it is on record as
        said in the channel (by this replica or another); None otherwise."""
        stretch = self._stretch
        return stretch.since if stretch is not None and stretch.reported else None

    async def failed(self, reason: str) -> None:
        """A try failed (not rejected): once the stretch has lasted DOWN_AFTER, say so (once)."""
        now = self.clock()
        stretch = self._stretch = self._stretch or _Stretch(now)
        if stretch.reported is not None or now - stretch.since < DOWN_AFTER:
            return
        stretch.reported = False
        async with self._lock:
            stretch.reported = await self._report("down", stretch.since, reason)

    async def answered(self) -> None:
        """The receiver answered (delivered or rejected): a stretch reported failing is said to be over."""
        stretch, self._stretch = self._stretch, None
        if stretch is None or stretch.reported is None:
            return
        async with self._lock:  # after its "failing" report, if that is still being made
            if stretch.reported:
                await self._report("up", stretch.since, "")

    async def _report(self, kind: str, since: datetime, reason: str) -> bool | None:
        """Post the report if no replica has; True once it is on record (by anyone), None when the
        database could not say (the next failure tries again)."""
        keys = [f"webhook-{kind}:{self.name}:{_hour(at)}" for at in (since, since + REPORT_HOURS)]
        try:
            async with self.uow() as uow:
                first = [await uow.incidents.first_delivery(key, now=self.clock()) for key in keys]
                if not all(first):
                    return True  # another replica said it (or a stretch within the hour was said)
                await uow.commit()
        except (
            Exception
        ) as exc:  # the database is away: a report never holds up deliveries; the next failure retries it
            log.warning("webhook %s (%s): could not record its %s report: %s", self.name, self.where, kind, exc)
            return None
        if kind == "down":
            log.warning(
                "webhook %s (%s): every delivery has failed since %s (%s)", self.name, self.where, since, reason
            )
            message = self.messages.webhook_failing(self.where, when=since, reason=reason)
        else:
            log.info("webhook %s (%s): the receiver answers again (failing since %s)", self.name, self.where, since)
            message = self.messages.webhook_recovered(self.where, when=since)
        if self.channel:
            try:
                await self.slack.post(self.channel, *message)
            except Exception as exc:  # the report is lost, the deliveries are not
                log.warning("webhook %s: could not say so in %s: %s", self.name, self.channel, slack_error(exc))
        return True


@dataclass
class WebhookDelivery:
    """One policy target, as a durable subscriber of the event log."""

    target: WebhookTarget
    secret: str = field(repr=False)  # whsec_…, from the environment variable the target names
    sender: WebhookSender
    watch: ReceiverWatch
    metrics: Metrics
    clock: Clock
    batch: int = BATCH  # deliveries the dispatch claims at once for this subscriber
    _signer: Webhook = field(init=False, repr=False)
    _told_rejected: bool = False  # a rejection is logged once per target per run

    def __post_init__(self) -> None:
        """Read the secret once."""
        self._signer = Webhook(self.secret)

    @property
    def name(self) -> str:
        """`webhook-` and a digest of the URL (stable, and naming nothing of it)."""
        return self.target.name

    @property
    def kinds(self) -> Collection[EventKind] | None:
        """The kinds the target lists."""
        return self.target.kinds

    @property
    def where(self) -> str:
        """The receiver as logs name it (scheme, host and port)."""
        return self.watch.where

    def signed(self, event: DomainEvent, at: datetime) -> tuple[bytes, dict[str, str]]:
        """The body and headers of a try at `at`."""
        body = json.dumps(event.as_json(), separators=(",", ":"), ensure_ascii=False).encode()
        headers = {
            "content-type": "application/json",
            "webhook-id": event.id,
            "webhook-timestamp": str(math.floor(at.timestamp())),
            "webhook-signature": self._signer.sign(event.id, at, body),
        }
        return body, headers

    async def handle(self, event: DomainEvent) -> None:
        """Send the event; raise ReceiverFailing to have it handed over again later."""
        if event.subject.private and not self.target.include_private:
            return  # not sent, not counted: nothing about a private incident leaves
        body, headers = self.signed(event, self.clock())
        try:
            status = await self.sender.send(self.target.url, body, headers)
        except Exception as exc:  # no answer at all: the sender's timeout, connection or address failure
            said = str(exc).replace(self.target.url, self.where)  # (the sender's messages never hold it anyway)
            await self._failed(event, said or type(exc).__name__)
            return
        if 200 <= status < 300:
            self._count(Outcome.DELIVERED)
            await self.watch.answered()
        elif status >= 500 or status in RETRIED:
            await self._failed(event, f"answered {status}")
        else:
            self._count(Outcome.REJECTED)
            if not self._told_rejected:
                self._told_rejected = True
                log.warning(
                    "webhook %s (%s): the receiver refused %s (%s) with %s; refused events are dropped, not "
                    'retried (said once; tocsin_webhook_deliveries_total{outcome="rejected"} counts them)',
                    self.name,
                    self.where,
                    event.id,
                    event.kind.value,
                    status,
                )
            await self.watch.answered()

    async def _failed(self, event: DomainEvent, reason: str) -> None:
        """A try that may work later: raise to retry, unless the event is 24 h old (then it is given up)."""
        await self.watch.failed(reason)
        if self.clock() - event.occurred_at >= GIVE_UP_AFTER:
            self._count(Outcome.EXPIRED)
            log.warning(
                "webhook %s (%s): gave up %s (%s) of %s, still failing 24 h after it happened (%s)",
                self.name,
                self.where,
                event.id,
                event.kind.value,
                event.occurred_at.isoformat(),
                reason,
            )
            return
        self._count(Outcome.FAILED)
        raise ReceiverFailing(reason[:200])

    def _count(self, outcome: Outcome) -> None:
        self.metrics.webhook_deliveries.labels(outcome.value).inc()


def webhook_subscribers(
    policy: Policy,
    *,
    sender: WebhookSender,
    slack: Slack,
    messages: Messages,
    uow: UnitOfWorkFactory,
    clock: Clock,
    metrics: Metrics,
    environ: Mapping[str, str],
) -> list[WebhookDelivery]:
    """A subscriber per policy target; ConfigError naming each secret variable unset or not a secret."""
    problems, subscribers = [], []
    for number, target in enumerate(policy.webhooks):
        secret = environ.get(target.secret_env, "")
        problem = secret_problem(secret)
        if problem is not None:
            problems.append(f"{target.secret_env} {problem} (the secret of webhooks[{number}], {host_of(target.url)})")
            continue
        where = host_of(target.url)
        watch = ReceiverWatch(target.name, where, policy.broadcast_channel, slack, messages, uow, clock)
        subscribers.append(WebhookDelivery(target, secret, sender, watch, metrics, clock))
    if problems:
        raise ConfigError("; ".join(problems))
    return subscribers
