"""The HTTP side of outside acknowledgements and providers' reports:

- `GET /contacts/ack/{token}`: a small page with an Acknowledge button (e-mail scanners follow links, so a
  GET never acknowledges); `POST /contacts/ack/{token}`: acknowledges (that button, and ntfy's action);
- `POST /contacts/twilio/gather?t=…`: the digit pressed on a call (signed by Twilio: `X-Twilio-Signature`
  over PUBLIC_URL + path + query and the form); "1" acknowledges; answered with TwiML;
- `POST /contacts/twilio/status?t=…`: a call's or message's status (signed): one that reached nobody fails
  the attempt and the person's next method is tried at once;
- `POST /contacts/pushover?t=…`: Pushover's receipt callback (the token ties it to the attempt, the receipt
  must be the attempt's).

Forged, replayed or expired: 403 or 410 with a plain message, nothing changes, one WARNING line."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from bot.entrypoints.contact_senders import ProviderSender
from bot.runtime.contacts import ContactError, say_twiml
from bot.usecases.contact_attempts import ContactAttempts
from bot.usecases.outside_acks import OutsideAcks, Verdict

log = logging.getLogger("bot.entrypoints.contact_callbacks")

PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the token is in the URL
    "X-Frame-Options": "DENY",
}
REFUSED = {
    Verdict.UNKNOWN: (403, "This acknowledgement link is not valid."),
    Verdict.SPENT: (410, "This acknowledgement link was used already."),
    Verdict.EXPIRED: (410, "This page is no longer escalating: nothing to acknowledge."),
}
TWIML = "application/xml"


def _page(title: str, body: str, *, status: int = 200) -> web.Response:
    document = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif;margin:2em;max-width:40em}}"
        "button{font-size:1.2em;padding:.6em 1.2em}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return web.Response(status=status, text=document, content_type="text/html", headers=PAGE_HEADERS)


def _refused(verdict: Verdict, what: str) -> web.Response:
    status, text = REFUSED[verdict]
    log.warning("contacts: %s refused (%s)", what, verdict.value)
    return web.Response(status=status, text=text, content_type="text/plain")


@dataclass
class ContactCallbacks:
    """The routes' handlers."""

    acks: OutsideAcks
    attempts: ContactAttempts
    sender: ProviderSender
    public_url: Callable[[], str | None]

    def add_routes(self, app: web.Application) -> None:
        """Serve the callbacks."""
        app.router.add_get("/contacts/ack/{token}", self.ack_page)
        app.router.add_post("/contacts/ack/{token}", self.ack)
        app.router.add_post("/contacts/twilio/gather", self.twilio_gather)
        app.router.add_post("/contacts/twilio/status", self.twilio_status)
        app.router.add_post("/contacts/pushover", self.pushover)

    async def ack_page(self, request: web.Request) -> web.Response:
        """What the link acknowledges, with the button that does it."""
        pending = await self.acks.look(request.match_info["token"])
        if pending.verdict is not Verdict.ACKNOWLEDGED:
            status, text = REFUSED[pending.verdict]
            return _page("Nothing to acknowledge", f"<p>{html.escape(text)}</p>", status=status)
        said = html.escape(f"{pending.severity}: {pending.title}")
        form = '<form method="post"><button type="submit">Acknowledge</button></form>'
        return _page("Acknowledge the page", f"<p>You are being paged for <strong>{said}</strong>.</p>{form}")

    async def ack(self, request: web.Request) -> web.Response:
        """Acknowledge through the link (the page's button, ntfy's action)."""
        verdict = await self.acks.accept(request.match_info["token"])
        if verdict is not Verdict.ACKNOWLEDGED:
            return _refused(verdict, "an acknowledgement link")
        return _page("Acknowledged", "<p>The page is acknowledged and its escalation stopped. Over to Slack.</p>")

    def _twilio_signed(self, request: web.Request, form: dict[str, str]) -> bool:
        public = self.public_url()
        if not public:
            return False
        try:
            twilio = self.sender.twilio()
        except ContactError:
            return False
        url = public.rstrip("/") + request.path_qs
        return twilio.signature_valid(url, form, request.headers.get("X-Twilio-Signature", ""))

    async def _twilio_form(self, request: web.Request) -> dict[str, str] | None:
        form = {k: str(v) for k, v in (await request.post()).items()}
        return form if self._twilio_signed(request, form) else None

    async def twilio_gather(self, request: web.Request) -> web.Response:
        """The digit pressed on a call: 1 acknowledges."""
        form = await self._twilio_form(request)
        if form is None:
            log.warning("contacts: a Twilio keypress with a bad signature was refused")
            return web.Response(status=403, text="Bad signature.", content_type="text/plain")
        token = request.query.get("t", "")
        if not token:
            return web.Response(text=say_twiml("There is nothing to acknowledge. Goodbye."), content_type=TWIML)
        if form.get("Digits") != "1":
            return web.Response(text=say_twiml("Nothing was acknowledged. Goodbye."), content_type=TWIML)
        verdict = await self.acks.accept(token, provider_id=form.get("CallSid"))
        if verdict is Verdict.EXPIRED:
            said = "This page is no longer escalating. Goodbye."
            return web.Response(text=say_twiml(said), content_type=TWIML)
        if verdict is not Verdict.ACKNOWLEDGED:
            return _refused(verdict, "a Twilio keypress")
        said = "Acknowledged. The escalation is stopped. Goodbye."
        return web.Response(text=say_twiml(said), content_type=TWIML)

    async def twilio_status(self, request: web.Request) -> web.Response:
        """A call's or message's status."""
        form = await self._twilio_form(request)
        if form is None:
            log.warning("contacts: a Twilio status report with a bad signature was refused")
            return web.Response(status=403, text="Bad signature.", content_type="text/plain")
        status = form.get("CallStatus") or form.get("MessageStatus") or ""
        if not await self.attempts.provider_status(request.query.get("t", ""), status):
            return _refused(Verdict.UNKNOWN, "a Twilio status report")
        return web.Response(status=204)

    async def pushover(self, request: web.Request) -> web.Response:
        """Pushover's receipt callback: the emergency message was acknowledged in the app."""
        form = await request.post()
        if str(form.get("acknowledged", "")) != "1":
            return web.Response(status=204)
        verdict = await self.acks.accept(request.query.get("t", ""), provider_id=str(form.get("receipt", "")))
        if verdict is not Verdict.ACKNOWLEDGED:
            return _refused(verdict, "a Pushover receipt")
        return web.Response(status=204)
