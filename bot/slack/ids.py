"""Every action_id and callback_id Tocsin uses, in one place."""

from enum import StrEnum


class Action(StrEnum):
    """Interactive elements' action_ids."""

    ACKNOWLEDGE = "incident_acknowledge"
    SET_SEVERITY = "incident_set_severity"
    ASSIGN_IC = "incident_assign_ic"
    ASSIGN_COMMS = "incident_assign_comms"
    POST_UPDATE = "incident_post_update"
    RESOLVE = "incident_resolve"
    PAGE_ACKNOWLEDGE = "page_acknowledge"
    PAGE_DECLINE = "page_decline"
    PAGE_ACKNOWLEDGE_ALL = "page_acknowledge_all"
    FOLLOW_UP_ADD = "follow_up_add"
    FOLLOW_UP_DONE = "follow_up_done"
    FOLLOW_UP_CREATE_ISSUE = "follow_up_create_issue"
    POSTMORTEM_DONE = "postmortem_done"


class View(StrEnum):
    """Modals' callback_ids."""

    DECLARE = "declare_incident"
    POST_UPDATE = "post_update"
    RESOLVE = "resolve_incident"
    FOLLOW_UP = "add_follow_up"
    ADD_TO_TIMELINE = "add_to_timeline"


class Shortcut(StrEnum):
    """Message shortcuts' callback_ids (manifest.yml `features.shortcuts`)."""

    DECLARE_FROM_MESSAGE = "declare_from_message"
    ADD_TO_TIMELINE = "add_to_timeline"


class Block(StrEnum):
    """block_ids of modal inputs, which view submissions are read by."""

    TITLE = "title"
    SEVERITY = "severity"
    DESCRIPTION = "description"
    DETECTED_VIA = "detected_via"
    STARTED_AT = "started_at"
    PRIVATE = "private"
    INCIDENT = "incident"
    KNOWN = "known"
    DOING = "doing"
    NEXT_UPDATE = "next_update"
    SUMMARY = "summary"
    IMPACT = "impact"
    CAUSE = "cause"
    FOLLOW_UP_TEXT = "follow_up_text"
    FOLLOW_UP_OWNER = "follow_up_owner"
    FOLLOW_UP_DUE = "follow_up_due"


SLASH_COMMAND = "/incident"
