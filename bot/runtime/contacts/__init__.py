"""Clients of the services that reach people beyond Slack: SMS and voice calls (Twilio), push (ntfy,
Pushover) and e-mail (SMTP). Each takes its policy section (bot/domain/contact_policy.py) and the process
environment (credentials are read from the variables the policy names), speaks its provider's documented
API, and raises ContactError (retryable or not, a short reason) when a send fails."""

from __future__ import annotations

from bot.runtime.contacts.base import ContactError, MissingCredential, Notice, Sent
from bot.runtime.contacts.ntfy import NtfyClient
from bot.runtime.contacts.pushover import PushoverClient
from bot.runtime.contacts.signatures import twilio_signature, twilio_signature_valid
from bot.runtime.contacts.smtp import SmtpClient
from bot.runtime.contacts.twilio import TwilioClient, say_twiml

__all__ = [
    "ContactError",
    "MissingCredential",
    "Notice",
    "NtfyClient",
    "PushoverClient",
    "Sent",
    "SmtpClient",
    "TwilioClient",
    "say_twiml",
    "twilio_signature",
    "twilio_signature_valid",
]
