"""The HTTP routes: Slack's Events API endpoint (signature checked before anything is parsed), alert
webhooks, the REST API (/api/v1, bot/entrypoints/api), health (/livez, /readyz, /healthz) and /metrics;
and Bolt's error hook for what listeners raise before their ack."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.internals import parse_body
from slack_bolt.response import BoltResponse

from bot.entrypoints.alert_webhooks import add_alert_routes
from bot.entrypoints.api.rate_limit import RateLimit
from bot.entrypoints.api.routes import api_routes
from bot.entrypoints.api.server import ApiServer
from bot.entrypoints.error_replies import report_error
from bot.entrypoints.payloads import malformed
from bot.entrypoints.tracker_webhooks import add_tracker_routes
from bot.entrypoints.web import WebPages, WebSettings, add_web_routes
from bot.runtime.version import VERSION
from bot.slack.gateway import SlackGateway

if TYPE_CHECKING:
    from bot.app import Tocsin
    from bot.settings import Settings

log = logging.getLogger(__name__)

SIGNATURE_WINDOW = 5 * 60  # seconds a signed request stays valid (Slack's documented window)
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


# What a listener raises while reading a payload before its ack: the payload lacks what Slack documents.
_MALFORMED = (LookupError, TypeError, ValueError, AttributeError)


def register_error_handler(bolt: AsyncApp, slack: SlackGateway) -> None:
    @bolt.error
    async def on_error(error: Exception, body: dict[str, Any], response: BoltResponse | None) -> BoltResponse | None:
        # Bolt calls this only for errors before the ack (work after it reports through Background).
        if response is not None and isinstance(error, _MALFORMED):
            log.warning("refused a malformed Slack payload: %s: %s", type(error).__name__, error)
            return BoltResponse(status=400, body="malformed payload")
        await report_error(error, body, slack)
        return None


def add_routes(tocsin: Tocsin, signing_secret: str) -> None:
    async def slack_events(request: web.Request) -> web.Response:
        # Socket Mode needs no signing secret (the socket is authenticated); there /slack/events answers 404.
        if tocsin.socket_mode is not None or not signing_secret:
            return web.json_response({"error": "Socket Mode is on; Slack traffic arrives over it"}, status=404)
        with tocsin.metrics.ack_seconds.time():
            # Checked before the body is parsed, so nothing unsigned is ever read (Bolt checks again).
            raw = await request.read()
            timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
            signature = request.headers.get("X-Slack-Signature", "")
            if not signed(signing_secret, raw, timestamp, signature, now=time.time()):
                return web.json_response({"error": "invalid or missing signature"}, status=401)
            try:
                body = parse_body(raw.decode("utf-8"), request.content_type)
            except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
                return web.json_response({"error": f"unreadable body: {type(exc).__name__}"}, status=400)
            # Bolt reads some fields as it builds its request, before any middleware: check the shape first.
            if (reason := malformed(body)) is not None:
                log.warning("refused a malformed Slack payload: %s", reason)
                return web.json_response({"error": reason}, status=400)
            try:
                response = await tocsin.bolt.async_dispatch(await to_bolt_request(request))
            except (LookupError, TypeError, ValueError, AttributeError) as exc:
                # Only Bolt's own reading of an odd payload gets here (listeners' errors go to on_error).
                log.warning("refused a malformed Slack payload: %s: %s", type(exc).__name__, exc)
                return web.json_response({"error": "malformed payload"}, status=400)
            return await to_aiohttp_response(response)

    async def readyz(_request: web.Request) -> web.Response:
        # Ready means this replica can take work: its database answers. Slack's state is detail (and on
        # /metrics): refusing readiness for it would take /alerts/* out of service with it.
        report = await tocsin.ready()
        return web.json_response(report, status=200 if report["database"] == "ok" else 503)

    async def livez(_request: web.Request) -> web.Response:
        # Answering at all shows the event loop is free; a timer that stopped ticking is not alive.
        stalled = tocsin.timers is not None and tocsin.timers.stalled
        report = {"event_loop": "ok", "timer": "stalled" if stalled else "ok"}
        return web.json_response(report, status=503 if stalled else 200)

    async def metrics(_request: web.Request) -> web.Response:
        await _count_open_incidents(tocsin)
        slack = await tocsin.slack()
        tocsin.metrics.slack_up.set(int(all(slack[key] == "ok" for key in ("slack", "socket_mode") if key in slack)))
        response = web.Response(body=tocsin.metrics.render())
        response.headers["Content-Type"] = tocsin.metrics.content_type
        return response

    add_alert_routes(tocsin)
    settings = tocsin.settings
    ApiServer(
        api_routes(version=VERSION),
        deps=tocsin.deps.api,
        tokens=tocsin.deps.api_tokens,
        limit=RateLimit(rate=settings.api_rate_limit, burst=settings.api_rate_burst),
        workspace=lambda: tocsin.identity.team_id,
    ).add_to(tocsin.web_app)
    add_web_routes(
        tocsin.web_app, WebPages.of(tocsin.deps, web_settings(settings), workspace=lambda: tocsin.identity.team_id)
    )
    add_tracker_routes(tocsin.web_app, tocsin.deps.tracker_sync)
    tocsin.web_app.router.add_post("/slack/events", slack_events)
    tocsin.web_app.router.add_get("/healthz", readyz)  # kept for compatibility: readiness
    tocsin.web_app.router.add_get("/readyz", readyz)
    tocsin.web_app.router.add_get("/livez", livez)
    tocsin.web_app.router.add_get("/metrics", metrics)


def web_settings(settings: Settings) -> WebSettings:
    """The web pages' settings, from the process's."""
    return WebSettings(
        public_url=settings.public_url,
        oauth_url=settings.slack_oauth_url,
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value() if settings.slack_client_secret else None,
        session_secret=settings.session_secret.get_secret_value() if settings.session_secret else None,
    )


def signed(secret: str, raw: bytes, timestamp: str, signature: str, *, now: float) -> bool:
    """Whether `raw` carries Slack's signature: v0= HMAC-SHA256 of `v0:{timestamp}:{body}` with the signing
    secret, within five minutes of `now`. Computed on the bytes, so a body that is not UTF-8 is checked too
    (and then refused as unreadable, not raised on)."""
    if not _TIMESTAMP.fullmatch(timestamp) or abs(now - int(timestamp)) > SIGNATURE_WINDOW:
        return False
    digest = hmac.new(secret.encode(), b"v0:%s:%s" % (timestamp.encode(), raw), hashlib.sha256).hexdigest()
    return hmac.compare_digest(f"v0={digest}".encode(), signature.encode("utf-8", "replace"))


async def _count_open_incidents(tocsin: Tocsin) -> None:
    """Refresh the open-incidents gauge from the database (replicas agree: it is one database)."""
    try:
        async with asyncio.timeout(2):
            counts = await tocsin.deps.stats.open_by_severity()
    except Exception as exc:  # a scrape must answer even when the database does not; the gauge keeps its last value
        tocsin.database_outage.failed(type(exc).__name__)
        return
    tocsin.metrics.set_open_incidents(counts, tocsin.deps.policy.severity_names)
