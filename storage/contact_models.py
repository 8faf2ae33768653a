"""The tables of people's contact methods and rules, verification codes, contact attempts."""

from __future__ import annotations
