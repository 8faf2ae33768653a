"""POST /alerts/{source}: the bearer token, a body limit, the sender's payload read into an AlertBatch,
then the intake. Every refusal is answered with its reason, logged in one line and counted on /metrics
(`tocsin_alerts_refused_total{source,reason}`).

Alertmanager and Grafana retry a 5xx but drop a 4xx for good, so a 4xx is kept for what a retry cannot
fix; a database that is away for now gets a 503 with Retry-After."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web
from sqlalchemy.exc import DBAPIError

from bot.domain.alert_payloads import SOURCES
from bot.domain.alert_payloads import parse as parse_alerts
from bot.domain.alerts import AlertBatch, AlertPayloadError
from bot.entrypoints.request_bodies import BodyTooLarge, read_limited
from bot.runtime.background import transient

if TYPE_CHECKING:
    from bot.app import Tocsin

log = logging.getLogger(__name__)

# Well above one Alertmanager group: 1,200 alerts are about 1.2 MiB, so this is some 16,000 alerts.
MAX_ALERT_BODY = 16 * 1024 * 1024
# Parsing a body this big takes long enough to hold up other requests: it is done off the event loop.
PARSE_IN_THREAD_FROM = 256 * 1024
RETRY_AFTER_SECONDS = 10


def add_alert_routes(tocsin: Tocsin) -> None:
    """Serve POST /alerts/{source}."""

    def refuse(source: str, status: int, reason: str, message: str, **headers: str) -> web.Response:
        # An unknown source is counted as one label value, so nobody can grow the series without bound.
        known = source if source in SOURCES else "unknown"
        tocsin.metrics.alerts_refused.labels(known, reason).inc()
        shown = source if source in SOURCES else repr(source[:40])  # repr: one line whatever the path holds
        log.warning("refused an alert webhook to /alerts/%s (%d %s): %s", shown, status, reason, message)
        return web.json_response({"error": message}, status=status, headers=headers)

    async def alerts(request: web.Request) -> web.Response:
        source = request.match_info["source"]
        if source not in SOURCES:
            return refuse(source, 404, "unknown_source", f"unknown alert source; use {', '.join(SOURCES)}")
        if not _authorized(tocsin, request.headers.get("Authorization", "")):
            return refuse(source, 401, "unauthorized", "missing or wrong bearer token")
        try:
            raw = await read_limited(request, MAX_ALERT_BODY)
        except BodyTooLarge:
            message = f"body over {MAX_ALERT_BODY // 1024 // 1024} MiB; set max_alerts on the sender"
            return refuse(source, 413, "too_large", message)
        try:
            big = len(raw) > PARSE_IN_THREAD_FROM
            batch = await asyncio.to_thread(_parse, source, raw) if big else _parse(source, raw)
        except AlertPayloadError as exc:
            return refuse(source, 400, "invalid_payload", str(exc))
        except RecursionError:
            return refuse(source, 400, "malformed_json", "malformed JSON: nested too deeply")
        except ValueError as exc:  # UnicodeDecodeError is a ValueError
            return refuse(source, 400, "malformed_json", f"malformed JSON: {exc}")
        try:
            summary = await tocsin.deps.alerts.receive(batch)
        except (DBAPIError, OSError, TimeoutError) as exc:
            if not transient(exc) or isinstance(exc, aiohttp.ClientError):
                raise  # not the database being away (Slack's errors are its calls' own business)
            message = f"the database is unreachable ({type(exc).__name__}); try again"
            return refuse(source, 503, "database_unreachable", message, **{"Retry-After": str(RETRY_AFTER_SECONDS)})
        return web.json_response(summary)

    tocsin.web_app.router.add_post("/alerts/{source}", alerts)


def _authorized(tocsin: Tocsin, header: str) -> bool:
    """Whether `header` carries ALERTS_TOKEN or ALERTS_TOKEN_PREVIOUS; none configured refuses all."""
    given = header.encode()
    tokens = tocsin.settings.alert_tokens
    # Every configured token is compared, in constant time, so timing shows neither which one matched.
    matches = [hmac.compare_digest(given, f"Bearer {t.get_secret_value()}".encode()) for t in tokens]
    return any(matches)


def _parse(source: str, raw: bytes) -> AlertBatch:
    return parse_alerts(source, json.loads(raw))
