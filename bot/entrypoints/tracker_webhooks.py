"""POST /trackers/{name}/webhook: a tracker telling Tocsin an issue was closed or reopened.

An unknown tracker is 404; a body over MAX_BODY is 413; a request the tracker's own verification refuses
(GitHub's `X-Hub-Signature-256`, GitLab's `X-Gitlab-Token`, …) is 401 and changes nothing; anything
verified is 202, whether or not it was about a follow-up's issue (trackers send many kinds of events).
The database being away is 503, which trackers retry."""

from __future__ import annotations

import logging

from aiohttp import web
from sqlalchemy.exc import DBAPIError

from bot.entrypoints.request_bodies import BodyTooLarge, read_limited
from bot.runtime.background import transient
from bot.usecases.tracker_sync import TrackerSync

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024
RETRY_AFTER_SECONDS = "10"


def add_tracker_routes(app: web.Application, sync: TrackerSync) -> None:
    """Serve POST /trackers/{name}/webhook."""

    async def webhook(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        tracker = sync.trackers.get(name)
        if tracker is None:
            return web.json_response({"error": "unknown tracker"}, status=404)
        try:
            body = await read_limited(request, MAX_BODY)
        except BodyTooLarge:
            return web.json_response({"error": f"body over {MAX_BODY // 1024} KiB"}, status=413)
        headers = dict(request.headers)
        if not tracker.verify_webhook(headers, body):
            log.warning("refused a webhook to /trackers/%s/webhook: its signature or token is wrong", name)
            return web.json_response({"error": "signature or token does not verify"}, status=401)
        change = tracker.parse_webhook(headers, body)
        if change is None:
            return web.json_response({"status": "ignored"}, status=202)
        try:
            await sync.apply(name, change)
        except (DBAPIError, OSError, TimeoutError) as exc:
            if not transient(exc):
                raise
            return web.json_response(
                {"error": "the database is unreachable; try again"},
                status=503,
                headers={"Retry-After": RETRY_AFTER_SECONDS},
            )
        return web.json_response({"status": "accepted"}, status=202)

    app.router.add_post("/trackers/{name}/webhook", webhook)
