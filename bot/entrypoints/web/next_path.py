"""Where to go after signing in: only ever a path on this site. A `next` that could leave it (another
scheme, `//host`, `/\\host` which browsers read as `//host`, or characters browsers strip or rewrite such
as tabs and newlines) is replaced by the incident list."""

from __future__ import annotations

from urllib.parse import urlsplit

HOME = "/"
MAX_NEXT = 1000


def safe_next(value: str | None) -> str:
    """`value` when it is a path on this site (starting with one `/`), else `/`."""
    if not value or len(value) > MAX_NEXT or not value.startswith("/"):
        return HOME
    if value.startswith(("//", "/\\")) or "\\" in value:
        return HOME
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in value):  # controls and spaces: browsers strip some
        return HOME
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return HOME
    return value
