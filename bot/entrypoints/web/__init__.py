"""The signed-in web pages: Sign in with Slack (OpenID Connect), a session in an encrypted cookie, and
read-only server-rendered pages (incidents, one incident, its postmortem, follow-ups, stats, on-call).
Private incidents exist only for the members of their channel. `add_web_routes(app, pages)` serves it."""

from bot.entrypoints.web.config import WebSettings
from bot.entrypoints.web.routes import WebPages, add_web_routes

__all__ = ["WebPages", "WebSettings", "add_web_routes"]
