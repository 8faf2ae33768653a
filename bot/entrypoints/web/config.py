"""What the web pages are configured with: where people reach Tocsin (PUBLIC_URL), where the browser signs
in to Slack (SLACK_OAUTH_URL), the app's OAuth client (SLACK_CLIENT_ID, SLACK_CLIENT_SECRET) and the
secret the session cookie is encrypted with (SESSION_SECRET)."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote, urlencode, urlsplit

SLACK_OAUTH_URL = "https://slack.com"
CALLBACK_PATH = "/login/callback"
SCOPES = "openid profile email"


@dataclass(frozen=True)
class WebSettings:
    """The web pages' settings (the process settings mapped onto them by the composition root)."""

    public_url: str | None = None  # e.g. https://tocsin.example.com
    oauth_url: str = SLACK_OAUTH_URL
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    session_secret: str | None = field(default=None, repr=False)

    @property
    def missing(self) -> list[str]:
        """The settings sign-in needs that are not set (empty: the pages can be used)."""
        wanted = {
            "PUBLIC_URL": self.public_url,
            "SLACK_CLIENT_ID": self.client_id,
            "SLACK_CLIENT_SECRET": self.client_secret,
            "SESSION_SECRET": self.session_secret,
        }
        return [name for name, value in wanted.items() if not value]

    @property
    def base(self) -> str:
        """PUBLIC_URL without a trailing slash."""
        return (self.public_url or "").rstrip("/")

    @property
    def secure(self) -> bool:
        """Whether people reach Tocsin over HTTPS, so cookies are sent only over it."""
        return urlsplit(self.base).scheme == "https"

    @property
    def origin(self) -> str:
        """PUBLIC_URL's origin (scheme://host[:port]), which a form's Origin header must match."""
        parts = urlsplit(self.base)
        return f"{parts.scheme}://{parts.netloc}".lower()

    @property
    def redirect_uri(self) -> str:
        """Where Slack sends the browser back to; the Slack app lists it as a redirect URL."""
        return self.base + CALLBACK_PATH

    def authorize_url(self, *, state: str, nonce: str, team_id: str | None) -> str:
        """Slack's OpenID Connect authorize URL for one sign-in (`team_id`: the workspace to sign in to)."""
        query = {
            "response_type": "code",
            "scope": SCOPES,
            "client_id": self.client_id or "",
            "state": state,
            "nonce": nonce,
            "redirect_uri": self.redirect_uri,
        }
        if team_id:
            query["team"] = team_id
        # quote, not quote_plus: the scope's spaces as %20, as Slack documents the URL
        return f"{self.oauth_url.rstrip('/')}/openid/connect/authorize?{urlencode(query, quote_via=quote)}"
