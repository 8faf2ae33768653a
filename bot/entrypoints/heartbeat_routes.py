"""POST /heartbeats/{name}: a cron job or a pipeline checking in. The same bearer token as the alert
webhooks (ALERTS_TOKEN, or ALERTS_TOKEN_PREVIOUS while rotating) and the same answers: a refusal is JSON
`{"error": …}` with its reason, logged in one line and counted on /metrics
(`tocsin_alerts_refused_total{source="heartbeat",reason}`); a database away for now gets a 503 with
Retry-After (senders such as curl's `--retry` try again). The body is not read: any or none will do."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Sequence

from aiohttp import web
from sqlalchemy.exc import DBAPIError

from bot.entrypoints.alert_webhooks import RETRY_AFTER_SECONDS
from bot.runtime.background import transient
from bot.runtime.metrics import Metrics
from bot.usecases.heartbeats import HeartbeatWatch, UnknownHeartbeat

log = logging.getLogger(__name__)

SOURCE = "heartbeat"


def authorized(tokens: Sequence[str], header: str) -> bool:
    """Whether `header` carries one of `tokens` as a bearer token; none configured refuses all."""
    given = header.encode()
    # Every token is compared, in constant time, so timing shows neither which one matched.
    matches = [hmac.compare_digest(given, f"Bearer {t}".encode()) for t in tokens if t]
    return any(matches)


def heartbeat_routes(
    watch: HeartbeatWatch, tokens: Callable[[], Sequence[str]], metrics: Metrics
) -> Callable[[web.Application], None]:
    """What adds POST /heartbeats/{name} to the web app (`tokens`: the bearer tokens accepted)."""

    def refuse(name: str, status: int, reason: str, message: str, **headers: str) -> web.Response:
        metrics.alerts_refused.labels(SOURCE, reason).inc()
        log.warning("refused a heartbeat to /heartbeats/%r (%d %s): %s", name[:40], status, reason, message)
        return web.json_response({"error": message}, status=status, headers=headers)

    async def beat(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if not authorized(tokens(), request.headers.get("Authorization", "")):
            return refuse(name, 401, "unauthorized", "missing or wrong bearer token")
        try:
            done = await watch.beat(name)
        except UnknownHeartbeat as exc:
            return refuse(name, 404, "unknown_heartbeat", str(exc))
        except (DBAPIError, OSError, TimeoutError) as exc:
            if not transient(exc):
                raise
            message = f"the database is unreachable ({type(exc).__name__}); try again"
            return refuse(name, 503, "database_unreachable", message, **{"Retry-After": str(RETRY_AFTER_SECONDS)})
        body = {"heartbeat": done.name, "due_by": done.due_by.isoformat(), "recovered": done.recovered}
        return web.json_response(body, status=202)

    def add(app: web.Application) -> None:
        app.router.add_post("/heartbeats/{name}", beat)

    return add
