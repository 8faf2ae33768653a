"""Tocsin's version: the installed package's, which pyproject.toml sets (its one source)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    VERSION = version("tocsin")
except PackageNotFoundError:  # running from a checkout that was never installed
    VERSION = "0+unknown"
