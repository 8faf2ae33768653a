"""The policy's contact methods (`contact_methods:`: how Tocsin reaches people beyond Slack, credentials
from the environment) and people's contact rules set by admins (`people:`). Pure."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from bot.domain.durations import Duration
from bot.domain.policy_base import StrictModel

if TYPE_CHECKING:  # a type only: the policy holds these sections
    from bot.domain.policy import Policy

ContactMethod = Literal["slack", "ntfy", "sms", "voice", "pushover", "email"]


class NtfyMethod(StrictModel):
    """Push through an ntfy server (self-hosted or ntfy.sh); a token from the environment if it needs one."""

    url: str = "https://ntfy.sh"
    token_env: str | None = None


class TwilioMethod(StrictModel):
    """SMS and voice calls through Twilio's REST API."""

    account_sid_env: str = "TWILIO_ACCOUNT_SID"
    auth_token_env: str = "TWILIO_AUTH_TOKEN"  # noqa: S105 - a variable's name
    from_: str = Field(alias="from")  # the Twilio number messages and calls come from (E.164)
    api_url: str = "https://api.twilio.com"


class PushoverMethod(StrictModel):
    """Push through Pushover (emergency priority: repeats until acknowledged)."""

    token_env: str = "PUSHOVER_TOKEN"  # noqa: S105 - a variable's name
    api_url: str = "https://api.pushover.net"


class SmtpMethod(StrictModel):
    """E-mail through an SMTP server (STARTTLS)."""

    host: str
    port: int = 587
    username_env: str | None = None
    password_env: str | None = None
    from_: str = Field(alias="from")
    starttls: bool = True


class ContactMethods(StrictModel):
    """The outside contact methods this Tocsin can use (Slack DM is always there)."""

    ntfy: NtfyMethod | None = None
    twilio: TwilioMethod | None = None
    pushover: PushoverMethod | None = None
    smtp: SmtpMethod | None = None


class ContactRule(StrictModel):
    """One step of a person's own escalation: this method, this long into their turn, from this severity."""

    method: ContactMethod
    after: Duration = timedelta(0)
    min_severity: str | None = None  # None: every severity


class PersonContacts(StrictModel):
    """A person's addresses (admin-set: no verification code needed) and rules."""

    contacts: dict[ContactMethod, str] = Field(default_factory=dict)
    rules: list[ContactRule] = Field(default_factory=list)


People = dict[str, PersonContacts]  # user (ID or e-mail address) -> their contacts and rules


def problems(policy: Policy) -> list[str]:
    """What in the policy's contact_methods and people names something the rest of the policy does not have."""
    return []
