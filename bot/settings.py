"""Process settings from the environment or `.env` (pydantic-settings), as docs/operations.md lists them."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, TypeVar

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.domain.errors import ConfigError
from storage.db import MIN_POOL_SIZE, POOL_SIZE
from storage.postgres_url import check_database_url

SLACK_PUBLIC_API_URL = "https://slack.com/api/"
DEFAULT_POLICY_PATH = Path("tocsin.yml")
# The placeholders .env.example ships with: copied unchanged, they must not pass as real secrets.
EXAMPLE_VALUES = frozenset({"xoxb-your-bot-token", "xapp-your-app-token", "your-signing-secret", "your-alerts-token"})
# A bearer token anyone may guess lets them page people: long, and not all one kind of character.
MIN_ALERTS_TOKEN_LENGTH = 32


class DatabaseSettings(BaseSettings):
    """What `tocsin migrate` needs: only the database."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = "sqlite:///./tocsin.db"
    # PostgreSQL connections each process keeps open (plus 5 more in a burst); SQLite ignores it. Fewer
    # than 10 would starve the process's own loops (event subscribers, jobs, timers) at busy moments.
    database_pool_size: int = Field(default=POOL_SIZE, ge=MIN_POOL_SIZE, le=500)
    # Seconds start-up waits for an unreachable database (containers often start before it).
    startup_timeout: float = Field(default=60.0, ge=0, le=3600)

    @field_validator("database_url")
    @classmethod
    def _database_url_shape(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql", "postgres")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        check_database_url(value)  # libpq's parameters (sslmode, sslrootcert…): known, valid, files readable
        return value


class OfflineSettings(DatabaseSettings):
    """What commands that need no Slack (`tocsin postmortem`) read: the database and the policy file."""

    tocsin_config: Path | None = None

    @property
    def policy_path(self) -> Path | None:
        """The policy file in force: TOCSIN_CONFIG, else ./tocsin.yml when present, else none."""
        if self.tocsin_config is not None:
            return self.tocsin_config
        return DEFAULT_POLICY_PATH if DEFAULT_POLICY_PATH.exists() else None


class Settings(OfflineSettings):
    """Everything the process reads from its environment; secrets stay `SecretStr`."""

    slack_bot_token: SecretStr
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = SLACK_PUBLIC_API_URL
    host: str = "0.0.0.0"  # noqa: S104 - the server is meant to be reachable (health checks, HTTP mode)
    port: int = Field(default=3000, ge=0, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    alerts_token: SecretStr | None = None
    # The token being rotated out: accepted alongside ALERTS_TOKEN until the senders all use the new one.
    alerts_token_previous: SecretStr | None = None
    # Seconds a stop may take to finish work in flight (SIGTERM/SIGINT).
    shutdown_grace: float = Field(default=20.0, gt=0, le=600)
    # The REST API's rate limit per token, in this process: requests a second, and the most at once.
    api_rate_limit: float = Field(default=20.0, gt=0, le=100_000)
    api_rate_burst: int = Field(default=40, ge=1, le=1_000_000)
    # The web pages (docs/web.md): where people reach Tocsin, where the browser signs in to Slack, the app's
    # OAuth client for Sign in with Slack, and the secret the session cookie is encrypted with.
    public_url: str | None = None
    slack_oauth_url: str = "https://slack.com"
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    session_secret: SecretStr | None = None

    @field_validator(
        "slack_bot_token",
        "slack_app_token",
        "slack_signing_secret",
        "alerts_token",
        "alerts_token_previous",
        "slack_client_secret",
        "session_secret",
        mode="before",
    )
    @classmethod
    def _not_the_example(cls, value: object) -> object:
        secret = value.get_secret_value() if isinstance(value, SecretStr) else value
        if isinstance(secret, str) and secret.strip() in EXAMPLE_VALUES:
            raise ValueError("still holds the example value from .env.example; put the real one there")
        return value

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token_shape(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not value.get_secret_value().startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return value

    @field_validator(
        "slack_signing_secret", "alerts_token", "alerts_token_previous", "slack_client_secret", "session_secret"
    )
    @classmethod
    def _blank_is_unset(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value() else None

    @field_validator("alerts_token", "alerts_token_previous")
    @classmethod
    def _strong_alerts_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and weak_token(value.get_secret_value()):
            raise ValueError(
                f"too weak; use at least {MIN_ALERTS_TOKEN_LENGTH} characters of more than one kind "
                "(letters, digits, symbols), such as the output of `openssl rand -hex 32`"
            )
        return value

    @field_validator("session_secret")
    @classmethod
    def _strong_session_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and weak_token(value.get_secret_value()):
            raise ValueError(
                "too weak; use at least 32 random characters, such as the output of `openssl rand -hex 32`"
            )
        return value

    @field_validator("public_url", "slack_oauth_url")
    @classmethod
    def _site_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or not value.strip():
            return "https://slack.com" if info.field_name == "slack_oauth_url" else None
        url = value.strip().rstrip("/")
        scheme, _, rest = url.partition("://")
        if scheme not in ("http", "https") or not rest or "/" in rest:
            raise ValueError("must be an http(s) URL with no path, such as https://tocsin.example.com")
        return url

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower_log_format(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url_shape(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value if value.endswith("/") else value + "/"

    @model_validator(mode="after")
    def _signing_secret_for_http_mode(self) -> Settings:
        if self.slack_app_token is None and self.slack_signing_secret is None:
            raise ValueError(
                "SLACK_SIGNING_SECRET is required in HTTP mode (set it, or set SLACK_APP_TOKEN for Socket Mode)"
            )
        return self

    @model_validator(mode="after")
    def _previous_token_needs_a_current_one(self) -> Settings:
        if self.alerts_token_previous is not None and self.alerts_token is None:
            raise ValueError("ALERTS_TOKEN_PREVIOUS is set but ALERTS_TOKEN is not (set the new token there)")
        return self

    @property
    def alert_tokens(self) -> list[SecretStr]:
        """The bearer tokens alert webhooks may present: ALERTS_TOKEN and, while rotating, the previous one."""
        return [t for t in (self.alerts_token, self.alerts_token_previous) if t is not None]

    @property
    def socket_mode(self) -> bool:
        """Slack traffic arrives over Socket Mode when an app-level token is set."""
        return self.slack_app_token is not None

    def describe(self) -> dict[str, str]:
        """The settings as `tocsin check` prints them: secrets only as set / unset."""

        def secret(value: SecretStr | None) -> str:
            return "set" if value is not None else "unset"

        return {
            "SLACK_BOT_TOKEN": secret(self.slack_bot_token),
            "SLACK_SIGNING_SECRET": secret(self.slack_signing_secret),
            "SLACK_APP_TOKEN": secret(self.slack_app_token),
            "SLACK_API_URL": self.slack_api_url,
            "DATABASE_URL": redact_url(self.database_url),
            "DATABASE_POOL_SIZE": str(self.database_pool_size),
            "TOCSIN_CONFIG": str(self.policy_path) if self.policy_path else "(built-in defaults)",
            "HOST": self.host,
            "PORT": str(self.port),
            "LOG_LEVEL": self.log_level,
            "LOG_FORMAT": self.log_format,
            "SHUTDOWN_GRACE": f"{self.shutdown_grace:g}s",
            "STARTUP_TIMEOUT": f"{self.startup_timeout:g}s",
            "ALERTS_TOKEN": secret(self.alerts_token),
            "ALERTS_TOKEN_PREVIOUS": secret(self.alerts_token_previous),
            "API_RATE_LIMIT": f"{self.api_rate_limit:g}/s, burst {self.api_rate_burst}",
            "PUBLIC_URL": self.public_url or "unset",
            "SLACK_OAUTH_URL": self.slack_oauth_url,
            "SLACK_CLIENT_ID": self.slack_client_id or "unset",
            "SLACK_CLIENT_SECRET": secret(self.slack_client_secret),
            "SESSION_SECRET": secret(self.session_secret),
            "transport": "Socket Mode" if self.socket_mode else "HTTP (POST /slack/events)",
        }


SettingsT = TypeVar("SettingsT", bound=DatabaseSettings)


def weak_token(token: str) -> bool:
    """Whether a bearer token is short, or all of one kind of character (lowercase, uppercase, digits,
    others), so that guessing it is within reach."""
    kinds = {"lower" if c.islower() else "upper" if c.isupper() else "digit" if c.isdigit() else "other" for c in token}
    return len(token) < MIN_ALERTS_TOKEN_LENGTH or len(kinds) < 2


def redact_url(url: str) -> str:
    """Hide the passwords in a database URL: the user's, and a client key's (`sslpassword=`)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    rest, question, query = rest.partition("?")
    if "@" in rest:
        credentials, _, host = rest.rpartition("@")
        user = credentials.split(":", 1)[0]
        rest = f"{user}:***@{host}" if ":" in credentials else rest
    items = [
        f"{name}=***" if name in ("password", "sslpassword") else f"{name}{equals}{value}"
        for name, equals, value in (item.partition("=") for item in query.split("&"))
    ]
    return f"{scheme}://{rest}{question}{'&'.join(items) if query else ''}"


def load_settings(kind: type[SettingsT] = Settings, **overrides: object) -> SettingsT:  # type: ignore[assignment]
    """Read settings; raise ConfigError with one line naming the variable on any problem."""
    try:
        return kind(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        location = ".".join(str(part) for part in error["loc"]).upper()
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "missing":
            raise ConfigError(f"{location} is not set (see .env.example)") from None
        if not location:
            raise ConfigError(message) from None
        raise ConfigError(f"{location} is invalid: {message}") from None
