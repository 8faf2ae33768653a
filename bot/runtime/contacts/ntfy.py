"""Push through ntfy (ntfy.sh or a self-hosted server), published as JSON.

Call: `POST {url}/` with `{"topic", "title", "message", "priority": 5, "tags", "actions", "click"}`; the
answer is the stored message (`id`, `time`, `event: "message"`, …). Priority 5 ("urgent", also called
"max") makes the phone sound through Do Not Disturb where the person allowed it. The page's
acknowledgement is an `http` action button: the ntfy app itself POSTs to the action's URL when tapped and
clears the notification (`clear: true`), so no browser opens. `Authorization: Bearer <token>` when the
policy names a token variable (a server with access control, or a reserved topic on ntfy.sh).

Errors are ntfy's `{"code", "http", "error", "link"}`: 401 (40101) and 403 (40301) are refusals of the
token, 400 (40009 topic invalid, 40018 actions invalid, …) a refused message, 429 (42901…) a rate limit
and 5xx the server's trouble (both retried, honouring `Retry-After` if the server sends one)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp

from bot.domain.contact_policy import NtfyMethod
from bot.runtime.contacts.base import Answer, ContactError, Notice, Sent, call, credential, http_error

PROVIDER = "ntfy"
URGENT = 5
ACK_LABEL = "Acknowledge"
OPEN_LABEL = "Open incident"
MESSAGE_MAX = 4096  # ntfy's default message limit; longer bodies become attachments, which pages never want


class NtfyClient:
    """One ntfy server (the policy's `url`), with its access token when the policy names one."""

    def __init__(self, config: NtfyMethod, environ: Mapping[str, str], session: aiohttp.ClientSession) -> None:
        """Read the token now (when the policy names its variable): a missing one raises MissingCredential."""
        self.config = config
        self.session = session
        self._token = credential(environ, config.token_env, PROVIDER) if config.token_env else None

    def __repr__(self) -> str:
        """No token."""
        return f"NtfyClient(url={self.config.url!r})"

    async def publish(self, topic: str, notice: Notice) -> Sent:
        """Publish the page to `topic` at urgent priority, with an Acknowledge button when it has an ack URL;
        its ntfy message id."""
        answer = await call(
            self.session,
            "POST",
            self.config.url.rstrip("/") + "/",
            provider=PROVIDER,
            json=message_json(topic, notice),
            headers=self._headers(),
        )
        if not answer.ok:
            raise _error(answer)
        message_id = answer.body.get("id") if isinstance(answer.body, dict) else None
        if not isinstance(message_id, str) or not message_id:
            raise ContactError(PROVIDER, "bad_answer", retryable=True, status=answer.status)
        return Sent(message_id)

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        return headers


def message_json(topic: str, notice: Notice) -> dict[str, Any]:
    """The JSON ntfy publishes for this page on `topic`."""
    actions: list[dict[str, Any]] = []
    if notice.ack_url:
        actions.append({"action": "http", "label": ACK_LABEL, "url": notice.ack_url, "method": "POST", "clear": True})
    if notice.link:
        actions.append({"action": "view", "label": OPEN_LABEL, "url": notice.link, "clear": False})
    message: dict[str, Any] = {
        "topic": topic,
        "title": notice.title,
        "message": notice.body[:MESSAGE_MAX] or notice.title,
        "priority": URGENT,
        "tags": ["rotating_light", *([notice.severity.lower()] if notice.severity else [])],
    }
    if actions:
        message["actions"] = actions
    if notice.link:
        message["click"] = notice.link
    return message


def _error(answer: Answer) -> ContactError:
    """ntfy's `{code, http, error}` as a ContactError (its text is left out: it can repeat the topic)."""
    body = answer.body if isinstance(answer.body, dict) else {}
    code = body.get("code") if isinstance(body.get("code"), int) else None
    return http_error(PROVIDER, answer, code=code)
