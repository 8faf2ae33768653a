"""Domain errors.

Hierarchy:
    TocsinError
      UserError          something the person typed or clicked is wrong; shown to them, nothing changed
        UsageError       the command's words are off; carries the usage line
        NotFoundError    the incident (or other thing) named does not exist
      ConfigError        settings or policy are invalid; stops start-up with one line
      AlreadyStored      a row with the same unique key exists (storage's IntegrityError, translated)
      SlackError         a call to Slack failed (slack-sdk's and aiohttp's errors, translated by bot/slack)
        SlackRefused     Slack answered and refused: its error code (not_in_channel, ratelimited…)
        SlackUnreachable Slack gave no usable answer: refused connection, unknown host, dropped, timed out
      ChartError         a chart could not be drawn (the figures go out without it)
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


class AlreadyStored(TocsinError):
    """Storing failed because a row with the same unique key exists (a race another request won)."""


class SlackError(TocsinError):
    """A call to Slack failed. `error` says why in a word: Slack's error code, or for no answer the kind of
    failure (ClientConnectorError, TimeoutError…); `retryable`: whether trying again later may work."""

    error: str
    retryable: bool


class SlackRefused(SlackError):
    """Slack answered and refused the call; `error` is its error code."""

    def __init__(self, error: str, *, retryable: bool = False, message: str | None = None) -> None:
        """Slack's `error` code; `retryable` when it means "not now" (rate limits, Slack's own trouble)."""
        super().__init__(message or error)
        self.error = error
        self.retryable = retryable


class SlackUnreachable(SlackError):
    """Slack gave no usable answer (refused connection, unknown host, dropped, timed out): always worth
    trying again later. `error` names the failure."""

    def __init__(self, error: str, *, message: str | None = None) -> None:
        """`error`: the kind of failure, as its exception was named."""
        super().__init__(message or error)
        self.error = error
        self.retryable = True


class ChartError(TocsinError):
    """A chart could not be drawn; the message says why, on one line."""


def slack_error(exc: BaseException) -> str:
    """What a failed Slack call's log line says of it: Slack's error code, what kept Slack from answering,
    or (not a Slack error at all) the exception's name."""
    return exc.error if isinstance(exc, SlackError) else type(exc).__name__


def retryable(exc: BaseException) -> bool:
    """Whether a failed call is worth trying again later (Slack busy or unreachable, or the network)."""
    if isinstance(exc, SlackError):
        return exc.retryable
    return isinstance(exc, OSError | TimeoutError)
