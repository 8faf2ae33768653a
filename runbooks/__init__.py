"""Tocsin's shipped runbooks (Markdown files), installed with the package as `tocsin_runbooks`."""
