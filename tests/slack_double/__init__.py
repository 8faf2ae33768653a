"""The strict Slack test double."""

from tests.slack_double.server import Ack, Call, SlackDouble

__all__ = ["Ack", "Call", "SlackDouble"]
