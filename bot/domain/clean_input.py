"""Text from outside made storable: no NUL characters (PostgreSQL refuses them) and no unpaired
surrogates (UTF-8 cannot encode them; JSON's \\ud800 escapes produce them). Pure."""

from __future__ import annotations

from typing import Any


def clean_text(text: str) -> str:
    """`text` without NUL characters and with unpaired surrogates replaced, so any database stores it."""
    text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def clean_strings(data: Any) -> Any:
    """Clean every string inside `data` in place (dicts and lists walked without recursion); returns it."""
    if isinstance(data, str):
        return clean_text(data)
    stack = [data]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in list(items):
            if isinstance(value, str):
                node[key] = clean_text(value)
            elif isinstance(value, dict | list):
                stack.append(value)
    return data
