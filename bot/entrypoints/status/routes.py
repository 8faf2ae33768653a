"""The public status page's routes (no sign-in): `GET /status`, `/status/feed.atom`, Statuspage's JSON
under `/status/api/v2/`, and the page's stylesheet. Every answer comes from the in-memory snapshot
(page.py): no database query per request.

Each body has a strong ETag, and `If-None-Match` with it answers 304; bodies of a kilobyte or more are
also kept gzip-compressed and sent so to clients that accept it (`Vary: Accept-Encoding`; that
representation has its own ETag). `Cache-Control: public,
max-age=15`: browsers and CDNs may keep a body 15 seconds without asking, so a page is at most about
17 seconds behind a publication (15 s, plus the refresher's 2 s on another replica); after that they ask
again, and an unchanged body costs a 304. The JSON documents may be read from any site (Statuspage's
public API answers `Access-Control-Allow-Origin: *` too), for widgets on other pages.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from bot.entrypoints.status.page import Body, StatusPage

CACHE_CONTROL = "public, max-age=15"
STATIC_CACHE_CONTROL = "public, max-age=3600"
STYLESHEET = Path(__file__).resolve().parent / "static" / "status.css"
# Each route and the snapshot body it serves (its path under /status).
ROUTES = {
    "/status": "",
    "/status/feed.atom": "feed.atom",
    "/status/api/v2/summary.json": "api/v2/summary.json",
    "/status/api/v2/status.json": "api/v2/status.json",
    "/status/api/v2/components.json": "api/v2/components.json",
    "/status/api/v2/incidents.json": "api/v2/incidents.json",
    "/status/api/v2/incidents/unresolved.json": "api/v2/incidents/unresolved.json",
}
RETRY_AFTER_SECONDS = 5

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def add_status_routes(app: web.Application, status: StatusPage, *, refresh_with_app: bool = True) -> None:
    """Serve the status page from `status`, whose refresher runs as long as `app` does (`refresh_with_app`
    False: its owner starts it once the database is ready, and stops it)."""
    for route, path in ROUTES.items():
        app.router.add_get(route, _serving(status, path))
    app.router.add_get("/status/", _to_the_page)
    stylesheet = Body.of(STYLESHEET.read_bytes(), "text/css; charset=utf-8")
    app.router.add_get("/status/static/status.css", _static(stylesheet))
    if refresh_with_app:
        app.cleanup_ctx.append(status.running)


def _serving(status: StatusPage, path: str) -> Handler:
    cors = {"Access-Control-Allow-Origin": "*"} if path.startswith("api/") else {}

    async def serve(request: web.Request) -> web.Response:
        body = status.body(path)
        if body is None:
            return web.Response(
                status=503,
                text="The status page is starting; try again in a few seconds.\n",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"},
            )
        return answer(request, body, CACHE_CONTROL, cors)

    return serve


def _static(body: Body) -> Handler:
    async def serve(request: web.Request) -> web.Response:
        return answer(request, body, STATIC_CACHE_CONTROL, {})

    return serve


async def _to_the_page(_request: web.Request) -> web.Response:
    raise web.HTTPMovedPermanently("/status")


def answer(request: web.Request, body: Body, cache_control: str, extra: dict[str, str]) -> web.Response:
    """`body` (gzip-compressed when the client takes it), or 304 when If-None-Match names its ETag."""
    packed = body.gzipped is not None and accepts_gzip(request.headers.get("Accept-Encoding", ""))
    etag = body.gzip_etag if packed else body.etag
    headers = {"ETag": etag, "Cache-Control": cache_control, "Vary": "Accept-Encoding", **extra}
    if names_etag(request.headers.get("If-None-Match", ""), etag):
        return web.Response(status=304, headers=headers)
    if packed and body.gzipped is not None:
        headers["Content-Encoding"] = "gzip"
        return web.Response(body=body.gzipped, headers={"Content-Type": body.content_type, **headers})
    return web.Response(body=body.content, headers={"Content-Type": body.content_type, **headers})


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header takes gzip (not refused with q=0)."""
    for item in accept_encoding.lower().split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip() in ("gzip", "x-gzip"):
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def names_etag(if_none_match: str, etag: str) -> bool:
    """Whether an If-None-Match header matches `etag` (the weak comparison RFC 9110 asks for here)."""
    if not if_none_match.strip():
        return False
    if if_none_match.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in if_none_match.split(","))
