"""Keys from outside (alert group keys, fingerprints, dedup keys) of any length in fixed-size columns,
the same on every database. Pure."""

from __future__ import annotations

import hashlib

_DIGEST = 64  # hex characters of SHA-256


def fit_key(key: str, limit: int) -> str:
    """`key` itself when it fits in `limit` characters; else a readable prefix and the SHA-256 of the
    whole key, so two long keys that share a prefix never collide and the same key always maps alike."""
    if len(key) <= limit:
        return key
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{key[: limit - _DIGEST - 1]}~{digest}"
