"""The public status page (no sign-in): its snapshot and refresher (page.py), its HTML (html.py and
templates/), its feeds (atom.py, statuspage_json.py) and its routes (routes.py)."""

from bot.entrypoints.status.page import StatusPage
from bot.entrypoints.status.routes import add_status_routes

__all__ = ["StatusPage", "add_status_routes"]
