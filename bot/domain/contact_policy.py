"""The policy's contact methods (`contact_methods:`: how Tocsin reaches people beyond Slack, credentials
from the environment) and people's contact rules set by admins (`people:`). Pure."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from bot.domain.contact_addresses import PROVIDER, SLACK, check_address
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
    """E-mail through an SMTP server (STARTTLS); `ca_file`: a PEM bundle of the CAs to trust instead of the
    system's (a relay with a private CA)."""

    host: str
    port: int = 587
    username_env: str | None = None
    password_env: str | None = None
    from_: str = Field(alias="from")
    starttls: bool = True
    ca_file: str | None = None


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


def configured(methods: ContactMethods) -> set[str]:
    """The methods this Tocsin can use (Slack always; the others once their provider is set up)."""
    providers = {name for name in ("ntfy", "twilio", "pushover", "smtp") if getattr(methods, name) is not None}
    return {SLACK} | {m for m, p in PROVIDER.items() if p in providers}


def problems(policy: Policy) -> list[str]:
    """What in the policy's contact_methods and people names something the rest of the policy does not have
    (a method nobody set up, a severity that does not exist, an address that cannot be one, a CA bundle
    that is not there)."""
    found: list[str] = []
    smtp = policy.contact_methods.smtp
    if smtp is not None and smtp.ca_file is not None and not Path(smtp.ca_file).is_file():
        found.append(f"contact_methods.smtp.ca_file: there is no file at {smtp.ca_file!r}")
    usable = configured(policy.contact_methods)
    for user, person in policy.people.items():
        where = f"people.{user}"
        for method, address in person.contacts.items():
            if method == SLACK:
                found.append(f"{where}.contacts.slack: Slack needs no address")
                continue
            try:
                check_address(method, address)
            except ValueError as exc:
                found.append(f"{where}.contacts.{method}: {exc}")
        for index, rule in enumerate(person.rules):
            if rule.method not in usable:
                provider = PROVIDER.get(rule.method, rule.method)
                found.append(f"{where}.rules[{index}]: {rule.method} needs contact_methods.{provider}")
            if rule.min_severity is not None and policy.severity_named(rule.min_severity) is None:
                found.append(f"{where}.rules[{index}].min_severity: {rule.min_severity!r} is not a severity")
    return found
