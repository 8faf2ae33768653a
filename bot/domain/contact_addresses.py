"""Contact methods and their addresses: names as people read them, the provider each needs, the check of an
address and its mask (addresses are personal data: shown in full only to their owner). Pure."""

from __future__ import annotations

import re

SLACK = "slack"
OUTSIDE: tuple[str, ...] = ("ntfy", "pushover", "sms", "voice", "email")  # beyond Slack, in a sensible order
PROVIDER = {"ntfy": "ntfy", "pushover": "pushover", "sms": "twilio", "voice": "twilio", "email": "smtp"}
METHOD_NAMES = {
    SLACK: "Slack DM",
    "ntfy": "push (ntfy)",
    "pushover": "push (Pushover)",
    "sms": "SMS",
    "voice": "phone call",
    "email": "e-mail",
}
_PHONE = re.compile(r"^\+[1-9]\d{6,14}$")
_EMAIL = re.compile(r"^[^@\s<>]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+$")
_NTFY_TOPIC = re.compile(r"^[-_A-Za-z0-9]{1,64}$")
_PUSHOVER_KEY = re.compile(r"^[A-Za-z0-9]{30}$")


def method_name(method: str) -> str:
    """A method as people read it."""
    return METHOD_NAMES.get(method, method)


def check_address(method: str, address: str) -> str:
    """`address` as stored for `method` (a phone number without spaces…); ValueError saying what is wrong."""
    value = address.strip()
    if method in ("sms", "voice"):
        value = re.sub(r"[\s().-]", "", value)
        if not _PHONE.match(value):
            raise ValueError("a phone number is written in international form, e.g. +447700900123")
    elif method == "email":
        if not _EMAIL.match(value):
            raise ValueError("that does not look like an e-mail address")
    elif method == "ntfy":
        if not _NTFY_TOPIC.match(value):
            raise ValueError("an ntfy topic is 1 to 64 letters, digits, - or _")
    elif method == "pushover":
        if not _PUSHOVER_KEY.match(value):
            raise ValueError("a Pushover user key is 30 letters and digits")
    else:
        raise ValueError(f"{method} takes no address")
    return value


def mask(method: str, address: str) -> str:
    """`address` as shown to anyone but its owner, and in logs: enough to tell two apart, never in full."""
    if method in ("sms", "voice") and len(address) > 6:
        return address[:3] + "•" * (len(address) - 6) + address[-3:]
    if method == "email" and "@" in address:
        local, _, domain = address.partition("@")
        return f"{local[:1]}•••@{domain}"
    if len(address) > 6:
        return f"{address[:2]}•••{address[-2:]}"
    return "•••"
