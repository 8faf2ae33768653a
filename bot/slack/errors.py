"""slack-sdk's and aiohttp's errors, translated at the gateway into the project's own (bot.domain.errors):
use cases catch SlackRefused and SlackUnreachable and never import Slack's libraries.

Each translation is also the error it translates (a SlackApiError, an aiohttp.ClientError), so what reads
those below the use cases (the background pool's retries, the error replies) behaves as before."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.domain.errors import SlackError, SlackRefused, SlackUnreachable
from bot.slack.web_client import error_code, retryable

P = ParamSpec("P")
T = TypeVar("T")


class RefusedBySlack(SlackRefused, SlackApiError):
    """Slack refused a call: its error code as SlackRefused, and slack-sdk's response as SlackApiError."""

    def __init__(self, refused: SlackApiError) -> None:
        """Keep what slack-sdk raised: its message, its response, its error code."""
        Exception.__init__(self, *refused.args)  # SlackRefused's and SlackApiError's own would redo the message
        self.response = refused.response
        self.error = error_code(refused)
        self.retryable = retryable(refused)


class SlackDidNotAnswer(SlackUnreachable, aiohttp.ClientConnectionError):
    """No answer from Slack (connection refused or dropped, unknown host, timeout): a connection error to
    the background pool too, which retries such work for a while."""

    def __init__(self, failure: BaseException) -> None:
        """Named for the `failure` behind it (ClientConnectorError, TimeoutError…)."""
        Exception.__init__(self, f"{type(failure).__name__}: {failure}")
        self.error = type(failure).__name__
        self.retryable = True


class SlackAnswerUnusable(SlackUnreachable, aiohttp.ClientError):
    """Slack's answer could not be read (a broken or unexpected HTTP response): worth trying again later,
    but not a connection error the background pool would retry at once."""

    def __init__(self, failure: BaseException) -> None:
        """Named for the `failure` behind it."""
        Exception.__init__(self, f"{type(failure).__name__}: {failure}")
        self.error = type(failure).__name__
        self.retryable = True


def translated(call: Callable[P, Awaitable[T]]) -> Callable[P, Coroutine[Any, Any, T]]:
    """A gateway method whose failures arrive as SlackRefused or SlackUnreachable."""

    @functools.wraps(call)
    async def calling(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await call(*args, **kwargs)
        except SlackError:  # translated already (one gateway method calling another)
            raise
        except SlackApiError as exc:
            raise RefusedBySlack(exc) from exc
        except (aiohttp.ClientConnectionError, TimeoutError, OSError) as exc:
            raise SlackDidNotAnswer(exc) from exc
        except aiohttp.ClientError as exc:
            raise SlackAnswerUnusable(exc) from exc

    return calling


def slack_error(exc: BaseException) -> str:
    """Slack's error code for a failed call, translated or not (or what kept Slack from answering, or the
    exception's name)."""
    if isinstance(exc, SlackError):
        return exc.error
    if isinstance(exc, SlackApiError):
        return error_code(exc)
    return type(exc).__name__
