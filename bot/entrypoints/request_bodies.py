"""Reading a webhook's body with a limit of its own: refused by its declared length at once, or as soon as
what arrives passes the limit, never buffered whole first."""

from __future__ import annotations

from aiohttp import web


class BodyTooLarge(Exception):
    """The body is over its limit."""


async def read_limited(request: web.Request, limit: int) -> bytes:
    """The body, read up to `limit` bytes; BodyTooLarge past that."""
    if request.content_length is not None and request.content_length > limit:
        raise BodyTooLarge
    chunks, size = [], 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)
