"""A follow-up's owner is found in a tracker by the e-mail on their Slack profile: the gateway reads it
with users.info, and says None for someone Slack does not know."""

from __future__ import annotations

import aiohttp

from bot.runtime.metrics import Metrics
from bot.slack.gateway import SlackGateway
from bot.slack.web_client import build_web_client
from tests.slack_double.server import SlackDouble


async def test_a_users_email_is_read_from_their_profile(double: SlackDouble) -> None:
    double.add_user("U0DAN", "dan", email="dan.ops@example.com")
    async with aiohttp.ClientSession() as http:
        client = build_web_client(token=double.bot_token, base_url=double.api_url, session=http, metrics=Metrics())
        slack = SlackGateway(client, http, post_interval=0.0)
        assert await slack.email_of("U0DAN") == "dan.ops@example.com"
        assert await slack.email_of("U0BOB") == "bob@example.com"
        assert await slack.email_of("U0NOBODY") is None
