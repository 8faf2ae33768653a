"""The tables of overrides and swaps made from Slack, their audit list, calendar feed tokens."""

from __future__ import annotations
