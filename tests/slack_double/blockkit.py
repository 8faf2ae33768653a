"""Block Kit validation as Slack applies it (limits from Slack's reference docs)."""

from __future__ import annotations

from typing import Any

MAX_BLOCKS = {"message": 50, "modal": 100, "home": 100}
SECTION_TEXT = 3000
FIELD_TEXT = 2000
MAX_FIELDS = 10
HEADER_TEXT = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
ID_LENGTH = 255
ACTIONS_ELEMENTS = 25
CONTEXT_ELEMENTS = 10
OPTION_TEXT = 75
OPTION_VALUE = 150
MAX_OPTIONS = 100
CHECKBOX_OPTIONS = 10
MODAL_TITLE = 24
PRIVATE_METADATA = 3000
KNOWN_BLOCKS = {"section", "header", "actions", "context", "divider", "input", "image", "rich_text", "file", "video"}
INTERACTIVE = {
    "button",
    "static_select",
    "users_select",
    "conversations_select",
    "channels_select",
    "external_select",
    "multi_static_select",
    "multi_users_select",
    "overflow",
    "datepicker",
    "timepicker",
    "datetimepicker",
    "checkboxes",
    "radio_buttons",
    "plain_text_input",
}


def validate_blocks(blocks: Any, surface: str = "message") -> list[str]:
    """Every rule `blocks` breaks, as Slack's invalid_blocks error messages would name them."""
    if not isinstance(blocks, list):
        return ["blocks must be an array"]
    errors: list[str] = []
    if len(blocks) > MAX_BLOCKS[surface]:
        errors.append(f"no more than {MAX_BLOCKS[surface]} items allowed [json-pointer:/blocks]")
    block_ids: set[str] = set()
    for index, block in enumerate(blocks):
        # Slack: an action_id must be unique among the action_ids in its containing block.
        action_ids: set[str] = set()
        where = f"[json-pointer:/blocks/{index}]"
        if not isinstance(block, dict) or block.get("type") not in KNOWN_BLOCKS:
            errors.append(f"unknown block type {where}")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if len(block_id) > ID_LENGTH:
                errors.append(f"block_id must be at most {ID_LENGTH} characters {where}")
            if block_id in block_ids:
                errors.append(f"duplicate block_id {where}")
            block_ids.add(block_id)
        if block["type"] == "input" and surface == "message":
            errors.append(f"input blocks are only allowed in modals and Home {where}")
        errors.extend(_check_block(block, where, action_ids))
    return errors


def _text_length(obj: Any) -> int:
    return len(obj.get("text", "")) if isinstance(obj, dict) else 0


def _check_text(obj: Any, limit: int, where: str, *, plain_only: bool = False) -> list[str]:
    if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
        return [f"text must be a text object {where}"]
    if plain_only and obj["type"] != "plain_text":
        return [f"must be plain_text {where}"]
    if not obj.get("text"):
        return [f"text must not be empty {where}"]
    if _text_length(obj) > limit:
        return [f"must be less than {limit + 1} characters {where}"]
    return []


def _check_block(block: dict[str, Any], where: str, action_ids: set[str]) -> list[str]:
    errors: list[str] = []
    kind = block["type"]
    if kind == "section":
        if "text" not in block and "fields" not in block:
            errors.append(f"section needs text or fields {where}")
        if "text" in block:
            errors.extend(_check_text(block["text"], SECTION_TEXT, where + "/text"))
        fields = block.get("fields", [])
        if len(fields) > MAX_FIELDS:
            errors.append(f"no more than {MAX_FIELDS} items allowed {where}/fields")
        for n, field in enumerate(fields):
            errors.extend(_check_text(field, FIELD_TEXT, f"{where}/fields/{n}"))
        if "accessory" in block:
            errors.extend(_check_element(block["accessory"], where + "/accessory", action_ids))
    elif kind == "header":
        errors.extend(_check_text(block.get("text"), HEADER_TEXT, where + "/text", plain_only=True))
    elif kind == "actions":
        elements = block.get("elements", [])
        if not elements or len(elements) > ACTIONS_ELEMENTS:
            errors.append(f"actions needs 1 to {ACTIONS_ELEMENTS} elements {where}/elements")
        for n, element in enumerate(elements):
            errors.extend(_check_element(element, f"{where}/elements/{n}", action_ids))
    elif kind == "context":
        elements = block.get("elements", [])
        if not elements or len(elements) > CONTEXT_ELEMENTS:
            errors.append(f"context needs 1 to {CONTEXT_ELEMENTS} elements {where}/elements")
        for n, element in enumerate(elements):
            if element.get("type") in ("plain_text", "mrkdwn"):
                errors.extend(_check_text(element, SECTION_TEXT, f"{where}/elements/{n}"))
    elif kind == "image":
        # Slack: alt_text (≤ 2000) and exactly one of image_url or slack_file ({"id"} or {"url"}).
        alt = block.get("alt_text")
        if not isinstance(alt, str) or not alt or len(alt) > 2000:
            errors.append(f"alt_text must be 1 to 2000 characters {where}/alt_text")
        sources = [key for key in ("image_url", "slack_file") if key in block]
        if len(sources) != 1:
            errors.append(f"must provide exactly one of image_url or slack_file {where}")
        elif sources == ["slack_file"] and not ({"id", "url"} & set(block["slack_file"] or {})):
            errors.append(f"slack_file needs an id or a url {where}/slack_file")
        if "title" in block:
            errors.extend(_check_text(block["title"], 2000, where + "/title", plain_only=True))
    elif kind == "input":
        errors.extend(_check_text(block.get("label"), 2000, where + "/label", plain_only=True))
        errors.extend(_check_element(block.get("element", {}), where + "/element", action_ids))
    return errors


def _check_options(options: Any, where: str, limit: int = MAX_OPTIONS) -> list[str]:
    errors: list[str] = []
    if not isinstance(options, list) or not options or len(options) > limit:
        return [f"needs 1 to {limit} options {where}"]
    for n, option in enumerate(options):
        errors.extend(_check_text(option.get("text"), OPTION_TEXT, f"{where}/{n}/text"))
        if len(option.get("value", "")) > OPTION_VALUE:
            errors.append(f"option value must be at most {OPTION_VALUE} characters {where}/{n}")
    return errors


def _check_element(element: dict[str, Any], where: str, action_ids: set[str]) -> list[str]:
    errors: list[str] = []
    kind = element.get("type")
    if kind not in INTERACTIVE and kind != "image":
        return [f"unknown element type {where}"]
    action_id = element.get("action_id")
    if action_id is not None:
        if len(action_id) > ID_LENGTH:
            errors.append(f"action_id must be at most {ID_LENGTH} characters {where}")
        if action_id in action_ids:
            errors.append(f"duplicate action_id {where}")
        action_ids.add(action_id)
    if kind == "button":
        errors.extend(_check_text(element.get("text"), BUTTON_TEXT, where + "/text", plain_only=True))
        if len(element.get("value", "")) > BUTTON_VALUE:
            errors.append(f"button value must be at most {BUTTON_VALUE} characters {where}")
        if element.get("style") not in (None, "primary", "danger"):
            errors.append(f"style must be primary or danger {where}")
    elif kind in ("static_select", "multi_static_select", "radio_buttons", "overflow"):
        errors.extend(_check_options(element.get("options"), where + "/options"))
    elif kind == "checkboxes":
        errors.extend(_check_options(element.get("options"), where + "/options", CHECKBOX_OPTIONS))
    for chosen in element.get("initial_options") or (
        [element["initial_option"]] if "initial_option" in element else []
    ):
        if chosen not in (element.get("options") or []):
            errors.append(f"initial option must be one of the options {where}")
    return errors


def validate_view(view: Any) -> list[str]:
    """The rules a modal or Home view breaks."""
    if not isinstance(view, dict) or view.get("type") not in ("modal", "home"):
        return ["view type must be modal or home"]
    errors = validate_blocks(view.get("blocks", []), view["type"])
    if view["type"] == "modal":
        errors.extend(_check_text(view.get("title"), MODAL_TITLE, "/title", plain_only=True))
        for key in ("submit", "close"):
            if key in view:
                errors.extend(_check_text(view[key], MODAL_TITLE, f"/{key}", plain_only=True))
        has_inputs = any(b.get("type") == "input" for b in view.get("blocks", []) if isinstance(b, dict))
        if has_inputs and "submit" not in view:
            errors.append("a modal with input blocks needs a submit button /submit")
    if len(view.get("private_metadata", "")) > PRIVATE_METADATA:
        errors.append(f"private_metadata must be at most {PRIVATE_METADATA} characters")
    if len(view.get("callback_id", "")) > ID_LENGTH:
        errors.append(f"callback_id must be at most {ID_LENGTH} characters")
    return errors
