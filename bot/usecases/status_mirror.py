"""Mirroring public updates to an Atlassian Statuspage page (the policy's `status_page.statuspage`): a
durable subscriber of the event log's `incident.published_update`, so an outage of Statuspage never holds
up anything else (its events wait, with the event log's backoff, while everything goes on).

- The first public update of an incident creates it on the page (POST /v1/pages/{page_id}/incidents);
  later ones update it (PATCH …/incidents/{id}), with the words, status and title customers read on
  Tocsin's own page, and the mapped components' state. Each request carries `Authorization: OAuth <key>`.
- The Statuspage id of each incident, and the newest update sent, are stored: an update handed over again
  (after a crash, say) is not sent twice once it is recorded. (A crash between Statuspage answering and the
  record being written sends it once more: Statuspage has no idempotency key to prevent that.)
- A 429 (or 420) is waited out as its Retry-After says (up to MAX_WAIT, RATE_TRIES times), then left to the
  event log's backoff; no answer, 408 or a 5xx likewise. Another answer (a wrong key's 401, an unknown
  page's 404, a 422) drops that update with one warning, as retrying cannot fix it. An update still failing
  GIVE_UP_AFTER after it was published is dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from bot.domain.errors import ConfigError
from bot.domain.events import DomainEvent, EventKind, IncidentPublishedUpdate
from bot.domain.policy import Policy
from bot.domain.status_page import PublicStatus, impact
from bot.domain.status_policy import ComponentState, StatuspageMirrorPolicy
from bot.usecases.ports import Clock, UnitOfWorkFactory

log = logging.getLogger(__name__)

GIVE_UP_AFTER = timedelta(hours=24)
MAX_WAIT = 10.0  # seconds of a Retry-After waited out in place (longer: the event log's backoff)
RATE_TRIES = 3  # tries of one request through 429s before it is left to the backoff
RETRIED = frozenset({408, 420, 429})  # besides 5xx
RATE_LIMITED = frozenset({420, 429})
# Statuspage allows about a request a second per key: the mirror sends one at a time, this far apart.
SPACING = 1.0
BATCH = 2  # updates one claim takes: even with waits on the rate limit, well within the claim's lease

# An answer: its status, its JSON body (None when it had none or it was not JSON), its Retry-After seconds.
Answer = tuple[int, Any, float | None]


class StatuspageApi(Protocol):
    """Statuspage's REST API over HTTP (bot/runtime/statuspage_client.py)."""

    async def call(self, method: str, url: str, *, api_key: str, body: Mapping[str, Any]) -> Answer:
        """Send one JSON request; raises when there was no answer (timeout, connection failure)."""
        ...


class MirrorFailing(Exception):
    """Statuspage did not take an update for now: the event log hands it over again later."""


@dataclass
class StatuspageMirror:
    """One Statuspage page, as a durable subscriber of the event log."""

    target: StatuspageMirrorPolicy
    api_key: str = field(repr=False)
    api: StatuspageApi
    policy: Policy
    uow: UnitOfWorkFactory
    clock: Clock
    spacing: float = SPACING
    max_wait: float = MAX_WAIT
    batch: int = BATCH
    kinds: Collection[EventKind] | None = frozenset({EventKind.INCIDENT_PUBLISHED_UPDATE})
    _turn: asyncio.Lock = field(default_factory=asyncio.Lock)
    _last_sent: float = float("-inf")
    _told_rejected: bool = False

    @property
    def name(self) -> str:
        """`statuspage-<page id>`: its backlog is kept under this name."""
        return f"statuspage-{self.target.page_id}"[:64]

    async def handle(self, event: DomainEvent) -> None:
        """Create or update the incident on the page; raise MirrorFailing to be handed it again later."""
        try:
            await self._mirror(event)
        except _GivenUp:
            return

    async def _mirror(self, event: DomainEvent) -> None:
        data, incident_id = event.data, event.subject.incident_id
        if not isinstance(data, IncidentPublishedUpdate) or incident_id is None or event.subject.private:
            return
        page = self.target.page_id
        async with self.uow(read_only=True) as uow:
            known = await uow.status.mirrored(incident_id, page)
            incident = await uow.incidents.get(incident_id)
        if known is not None and known[1] >= data.update_id:
            return  # sent already: this is a redelivery
        severity = incident.severity if incident is not None else ""
        state = self.policy.status_page.state_for(severity)
        body = self._body(data, state, create=known is None)
        base = f"{self.target.api_url}/v1/pages/{page}/incidents"
        if known is None:
            answer = await self._send(event, "POST", base, body)
        else:
            answer = await self._send(event, "PATCH", f"{base}/{known[0]}", body)
        if answer is None:
            return  # refused for good (said once): nothing to record
        statuspage_id = known[0] if known is not None else _id_of(answer)
        if statuspage_id is None:
            raise MirrorFailing("Statuspage created the incident but its answer named no id")
        async with self.uow() as uow:
            await uow.status.mirror(
                incident_id, page, statuspage_id=statuspage_id, update_id=data.update_id, now=self.clock()
            )
            await uow.commit()

    def _body(self, data: IncidentPublishedUpdate, state: ComponentState, *, create: bool) -> dict[str, Any]:
        """The request body: the public words, status and title, and the mapped components' state."""
        resolved = data.status == PublicStatus.RESOLVED.value
        shown = ComponentState.OPERATIONAL if resolved else state
        mapped = [self.target.components[c] for c in data.components if c in self.target.components]
        incident: dict[str, Any] = {
            "name": data.title,
            "status": data.status,
            "body": data.body,
            "deliver_notifications": True,
        }
        if not resolved:
            incident["impact_override"] = impact(state)
        if mapped:
            incident["components"] = {component: shown.value for component in mapped}
            if create:
                incident["component_ids"] = mapped
        return {"incident": incident}

    async def _send(self, event: DomainEvent, method: str, url: str, body: dict[str, Any]) -> Answer | None:
        """One request, waiting out short rate limits; None when Statuspage refused it for good."""
        for _ in range(RATE_TRIES):
            try:
                answer = await self._paced(method, url, body)
            except Exception as exc:  # no answer at all: the client's timeout or a connection failure
                raise self._failure(event, str(exc) or type(exc).__name__) from None
            status, _, retry_after = answer
            if 200 <= status < 300:
                return answer
            if status in RATE_LIMITED and retry_after is not None and retry_after <= self.max_wait:
                await asyncio.sleep(retry_after)
                continue
            if status >= 500 or status in RETRIED:
                raise self._failure(event, f"answered {status}")
            if not self._told_rejected:
                self._told_rejected = True
                log.warning(
                    "statuspage %s: refused a public update of %s with %s (%s); refused updates are dropped, "
                    "not retried (said once)",
                    self.target.page_id,
                    event.subject.reference,
                    status,
                    _error_of(answer),
                )
            return None
        raise self._failure(event, "rate limited")

    async def _paced(self, method: str, url: str, body: dict[str, Any]) -> Answer:
        """Send in turn, SPACING apart (Statuspage's rate limit is per key)."""
        loop = asyncio.get_running_loop()
        async with self._turn:
            wait = self._last_sent + self.spacing - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                return await self.api.call(method, url, api_key=self.api_key, body=body)
            finally:
                self._last_sent = loop.time()

    def _failure(self, event: DomainEvent, reason: str) -> Exception:
        """What to raise for a try that failed: MirrorFailing (try again later), or _GivenUp for an update
        GIVE_UP_AFTER old (logged)."""
        if self.clock() - event.occurred_at < GIVE_UP_AFTER:
            return MirrorFailing(reason[:200])
        log.warning(
            "statuspage %s: gave up a public update of %s, still failing a day after it was published (%s)",
            self.target.page_id,
            event.subject.reference,
            reason,
        )
        return _GivenUp()


class _GivenUp(Exception):
    """An update dropped for being too old (handle() treats it as handled)."""


def _id_of(answer: Answer) -> str | None:
    body = answer[1]
    ident = body.get("id") if isinstance(body, dict) else None
    return str(ident) if isinstance(ident, str | int) and str(ident) else None


def _error_of(answer: Answer) -> str:
    body = answer[1]
    if isinstance(body, dict):
        said = body.get("error") or body.get("message")
        if isinstance(said, str | list):
            return str(said)[:200]
    return "no reason given"


def statuspage_mirror(
    policy: Policy, *, api: StatuspageApi, uow: UnitOfWorkFactory, clock: Clock, environ: Mapping[str, str]
) -> StatuspageMirror | None:
    """The policy's mirror (None without one); ConfigError when its API key's variable is unset."""
    target = policy.status_page.statuspage
    if target is None:
        return None
    key = environ.get(target.api_key_env, "").strip()
    if not key:
        raise ConfigError(
            f"{target.api_key_env} is not set (the API key of status_page.statuspage, page {target.page_id})"
        )
    return StatuspageMirror(target, key, api, policy, uow, clock)
