"""The double's views.update and views.push, as Slack's reference documents them (arguments, errors,
scopes); mixed into SlackDouble. And the users' side of an open modal: picking from an element that
dispatches its action at once (an input block with `dispatch_action`), which Slack sends as a
block_actions payload whose container is the view.

- views.update: `view` and one of `view_id` or `external_id` (neither: `invalid_arguments`); an unknown
  one is `not_found`; a `hash` other than the view's current one is `hash_conflict` (someone updated it
  since); the view is checked as views.open checks it (`invalid_arguments` with the messages). The view
  keeps its id and gets a new hash.
- views.push: a live, unused `trigger_id` as views.open; at most 3 views in a modal's stack
  (`push_limit_reached`).
No scope is needed for either (Slack's reference); both are Tier 4.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from typing import TYPE_CHECKING, Any

from tests.slack_double.blockkit import validate_view

if TYPE_CHECKING:  # types only: server.py mixes this class in
    from tests.slack_double.server import Ack

SCOPES: dict[str, set[str]] = {}
TIERS = {"views.update": 100, "views.push": 100}
MAX_STACK = 3  # views in one modal's stack (the root and two pushed)


class ViewMethods:
    """Methods `m_<method_with_underscores>(args) -> dict` the double dispatches to."""

    views: dict[str, dict[str, Any]]
    _triggers: dict[str, tuple[float, bool]]
    team_id: str
    users: dict[str, dict[str, Any]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """The double's module gains these methods' scopes and rate tiers as the double is defined."""
        super().__init_subclass__(**kwargs)
        server = sys.modules[cls.__module__]
        server.METHOD_SCOPES.update(SCOPES)
        server.METHOD_TIERS.update(TIERS)

    # ----- views.update --------------------------------------------------------------------------
    def m_views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        error = _server().SlackError
        view_id, external_id = args.get("view_id"), args.get("external_id")
        if not view_id and not external_id:
            raise error("invalid_arguments", response_metadata={"messages": ["view_id or external_id is required"]})
        if view_id:
            current = self.views.get(str(view_id))
        else:
            current = next((v for v in self.views.values() if v.get("external_id") == external_id), None)
        if current is None:
            raise error("not_found")
        given_hash = args.get("hash")
        if given_hash and given_hash != current["hash"]:
            raise error("hash_conflict")
        view = _view_arg(args)
        problems = validate_view(view)
        if problems or not isinstance(view, dict):
            raise error("invalid_arguments", response_metadata={"messages": problems})
        if view.get("type") != current.get("type"):
            raise error("invalid_arguments", response_metadata={"messages": ["a view keeps its type"]})
        kept = {k: current[k] for k in ("id", "team_id", "root_view_id", "previous_view_id") if k in current}
        stored = {**view, **kept, "hash": uuid.uuid4().hex}
        self.views[stored["id"]] = stored
        self.__dict__.setdefault("view_updates", []).append(stored)
        return {"view": stored}

    # ----- views.push ----------------------------------------------------------------------------
    def m_views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        error = _server().SlackError
        trigger_id = args.get("trigger_id")
        if not isinstance(trigger_id, str) or trigger_id not in self._triggers:
            raise error("invalid_trigger_id")
        issued, used = self._triggers[trigger_id]
        if used:
            raise error("exchanged_trigger_id")
        if time.monotonic() - issued > _server().TRIGGER_LIFETIME:
            raise error("expired_trigger_id")
        view = _view_arg(args)
        problems = validate_view(view)
        if problems or not isinstance(view, dict) or view.get("type") != "modal":
            raise error("invalid_arguments", response_metadata={"messages": problems or ["only modals are pushed"]})
        # The modal in front is the one the trigger came from: the newest view of its stack.
        top = self.__dict__.get("_trigger_views", {}).get(trigger_id)
        if top is None or top not in self.views:
            raise error("invalid_trigger_id")
        root = self.views[top].get("root_view_id") or top
        if sum(1 for v in self.views.values() if (v.get("root_view_id") or v["id"]) == root) >= MAX_STACK:
            raise error("push_limit_reached")
        self._triggers[trigger_id] = (issued, True)
        stored = {
            **view,
            "id": f"V{uuid.uuid4().hex[:10].upper()}",
            "hash": uuid.uuid4().hex,
            "team_id": self.team_id,
            "root_view_id": root,
            "previous_view_id": top,
        }
        self.views[stored["id"]] = stored
        return {"view": stored}

    # ----- the users' side -----------------------------------------------------------------------
    @property
    def updated_views(self) -> list[dict[str, Any]]:
        """Every view as views.update left it, oldest first."""
        return list(self.__dict__.get("view_updates", []))

    def view_action_payload(
        self, user_id: str, view_id: str, action_id: str, value: Any, *, values: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The block_actions payload when `user_id` picks `value` in the open modal's element `action_id`
        (an input block with `dispatch_action`, or an actions block); `values` are the other inputs as
        filled so far, by block_id. Its trigger_id may push a view over this one."""
        server = _server()
        view = self.views[view_id]
        found = _element_in(view, action_id)
        if found is None:
            raise AssertionError(f"no element {action_id} in that view")
        block, element = found
        if block.get("type") == "input" and not block.get("dispatch_action"):
            raise AssertionError(f"{action_id} is in an input block without dispatch_action: Slack sends nothing")
        picked = server._element_state(element, value)
        state: dict[str, dict[str, Any]] = {block["block_id"]: {action_id: picked}}
        filled = values or {}
        for other in view.get("blocks", []):
            if other.get("type") == "input" and other["block_id"] in filled:
                entry = other["element"]
                state[other["block_id"]] = {entry["action_id"]: server._element_state(entry, filled[other["block_id"]])}
        action = {"action_id": action_id, "block_id": block["block_id"], "action_ts": f"{time.time():.6f}"}
        action.update(picked)
        trigger_id = f"{uuid.uuid4().int % 10**9}.{uuid.uuid4().hex[:12]}"
        self._triggers[trigger_id] = (time.monotonic(), False)
        self.__dict__.setdefault("_trigger_views", {})[trigger_id] = view_id
        return {
            "type": "block_actions",
            "user": {"id": user_id, "username": self.users[user_id]["name"], "team_id": self.team_id},
            "api_app_id": "A0TOCSIN",
            "token": "deprecated-verification-token",
            "container": {"type": "view", "view_id": view_id},
            "trigger_id": trigger_id,
            "team": {"id": self.team_id, "domain": "tocsin-test"},
            "is_enterprise_install": False,
            "view": {**json.loads(json.dumps(view)), "state": {"values": state}, "app_id": "A0TOCSIN"},
            "actions": [action],
        }

    async def pick_in_view(
        self,
        user_id: str,
        view_id: str,
        action_id: str,
        value: Any,
        *,
        values: dict[str, Any] | None = None,
        via: str = "http",
    ) -> Ack:
        """A user picks `value` in an open modal's dispatching element."""
        payload = self.view_action_payload(user_id, view_id, action_id, value, values=values)
        deliver = getattr(self, "deliver")  # noqa: B009 - the double's own, mixed in
        ack: Ack = await deliver(payload, kind="interactive", via=via)
        return ack


def _server() -> Any:
    """The double's module (imported once it has loaded: it imports this one)."""
    return sys.modules["tests.slack_double.server"]


def _view_arg(args: dict[str, Any]) -> Any:
    view = args.get("view")
    if isinstance(view, str):
        try:
            return json.loads(view)
        except ValueError:
            return None
    return view


def _element_in(view: dict[str, Any], action_id: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    for block in view.get("blocks", []):
        elements = [block.get("element"), block.get("accessory"), *block.get("elements", [])]
        for element in elements:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return block, element
    return None
