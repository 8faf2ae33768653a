"""The Bolt app: every listener of Slack's requests (the core's and the capabilities'), answering Slack
from the identity start() fetched."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.web.async_client import AsyncWebClient

from bot.entrypoints import actions, commands, events, follow_up_controls, shortcuts, tracker_controls
from bot.entrypoints import modals as views
from bot.entrypoints.deps import Deps
from bot.entrypoints.http import register_error_handler
from bot.entrypoints.payloads import well_formed_payloads
from bot.entrypoints.workspace_guard import only_our_workspace
from bot.runtime.health import Identity


def bolt_app(
    deps: Deps,
    client: AsyncWebClient,
    identity: Identity,
    signing_secret: str,
    listeners: Sequence[Callable[[AsyncApp], None]] = (),
) -> AsyncApp:
    """The Bolt app with every listener (the capabilities' `listeners` too); it answers Slack from the
    identity start() fetched."""

    async def authorize(**_: Any) -> AuthorizeResult:
        # Bolt's default calls auth.test before the first listener runs, i.e. before the ack; we answer
        # from the identity start() already fetched, so no request waits on Slack to be acknowledged.
        return AuthorizeResult(
            enterprise_id=identity.enterprise_id,
            team_id=identity.team_id,
            bot_user_id=identity.bot_user_id,
            bot_id=identity.bot_id,
            bot_token=client.token,
        )

    bolt = AsyncApp(
        client=client,
        authorize=authorize,
        signing_secret=signing_secret,
        # Listeners ack and hand their work to `background`, so Bolt can answer as soon as they return.
        process_before_response=True,
        raise_error_for_unhandled_request=False,
        logger=logging.getLogger("bot.bolt"),
    )
    bolt.use(well_formed_payloads())
    bolt.use(only_our_workspace(lambda: (identity.team_id, identity.enterprise_id)))
    commands.register(bolt, deps)
    views.register(bolt, views.FormDeps.taken_from(deps))
    actions.register(bolt, actions.ActionDeps.taken_from(deps))
    follow_up_controls.register(bolt, follow_up_controls.FollowUpDeps.taken_from(deps))
    tracker_controls.register(bolt, tracker_controls.TrackerControlDeps.taken_from(deps))
    events.register(bolt, events.EventDeps.taken_from(deps))
    shortcuts.register(bolt, shortcuts.ShortcutDeps.taken_from(deps))
    for register in listeners:
        register(bolt)
    register_error_handler(bolt, deps.slack)
    return bolt
