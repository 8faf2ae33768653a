"""Security headers on every HTTP response Tocsin serves (pages, feeds, the API alike): no inline script,
no framing, no MIME sniffing, no referrer leaking an incident's URL to another site."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

# Pages are server-rendered: scripts and styles only from Tocsin's own /static, images also as data: URIs
# (charts), forms post only to Tocsin, and nobody may frame a page.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Add HEADERS to the response (and to an HTTP error raised as one), keeping any a handler set."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        for name, value in HEADERS.items():
            exc.headers.setdefault(name, value)
        raise
    if not response.prepared:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
    return response
