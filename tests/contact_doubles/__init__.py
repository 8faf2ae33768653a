"""Doubles of the contact providers (Twilio, ntfy, Pushover, an SMTP server): real servers on 127.0.0.1
that enforce each provider's documented API and play its callbacks (a pressed digit, a tapped button, an
acknowledged emergency), so Tocsin's clients and callback endpoints are tested over the wire."""
