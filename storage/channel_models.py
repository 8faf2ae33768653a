"""The tables of bookmarks kept in incident channels, archives and continuation channels."""

from __future__ import annotations
