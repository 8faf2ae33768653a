"""The tables of heartbeats and maintenance windows."""

from __future__ import annotations
