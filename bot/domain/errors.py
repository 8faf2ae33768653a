"""Domain errors.

Hierarchy:
    TocsinError
      UserError          something the person typed or clicked is wrong; shown to them, nothing changed
        UsageError       the command's words are off; carries the usage line
        NotFoundError    the incident (or other thing) named does not exist
      ConfigError        settings or policy are invalid; stops start-up with one line
"""


class TocsinError(Exception):
    """Base of every error Tocsin raises on purpose."""


class UserError(TocsinError):
    """An error the user caused; its message is safe to show them (plain text)."""


class UsageError(UserError):
    """A command was typed wrongly."""

    def __init__(self, message: str, usage: str | None = None) -> None:
        """Keep the message and the usage line to show with it."""
        super().__init__(message)
        self.usage = usage


class NotFoundError(UserError):
    """Something the user named does not exist."""


class ConfigError(TocsinError):
    """Settings or the policy file are invalid."""
