"""Every route of the API, and the OpenAPI document built from them (the document's own route among them)."""

from __future__ import annotations

from typing import Any

from bot.entrypoints.api import incident_reads, incident_writes, report_reads
from bot.entrypoints.api.openapi import document
from bot.entrypoints.api.registry import Route


def api_routes(*, version: str) -> list[Route]:
    """The API's routes: reads, writes, and GET /api/v1/openapi.json describing them all."""
    built: dict[str, Any] = {}

    def the_document() -> dict[str, Any]:
        if not built:  # built once, on first request: nothing in it changes while the process runs
            built.update(document(routes, version=version))
        return built

    routes: list[Route] = [
        *incident_reads.routes,
        *report_reads.routes,
        *incident_writes.routes,
        *report_reads.openapi_route(the_document),
    ]
    return routes
