"""Block Kit builders, pure: every Slack limit, every escape and every trim lives here, once. Callers use
the package (`from bot.slack import blocks`); each module holds one kind of message."""

from bot.slack.blocks.alerts import *  # noqa: F403
from bot.slack.blocks.catch_up import *  # noqa: F403
from bot.slack.blocks.forms import *  # noqa: F403
from bot.slack.blocks.incident import *  # noqa: F403
from bot.slack.blocks.paging import *  # noqa: F403
from bot.slack.blocks.primitives import *  # noqa: F403
from bot.slack.blocks.runbooks import *  # noqa: F403
