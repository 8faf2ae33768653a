"""The tables of full-text search over incidents and the links between related incidents."""

from __future__ import annotations
