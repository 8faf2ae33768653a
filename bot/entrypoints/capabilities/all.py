"""Every capability, in the order the composition root builds them."""

from __future__ import annotations

from bot.entrypoints.capabilities import channel, contacts, handovers, incident_types, related, shifts, watch

CAPABILITIES = (
    contacts.capability,
    shifts.capability,
    handovers.capability,
    watch.capability,
    channel.capability,
    related.capability,
    incident_types.capability,
)
