"""The tables of handover notes, handoffs seen, round-robin turns, user-group syncs."""

from __future__ import annotations
