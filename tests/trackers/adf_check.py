"""What the Jira double accepts as an Atlassian Document Format description: the structure of ADF's
published JSON schema (a `doc` of version 1; block nodes and the inline nodes and marks each may hold;
no unknown keys; text non-empty), for the nodes an issue description uses. Written from the schema, not
from Tocsin's builder, so the builder is checked against it."""

from __future__ import annotations

from typing import Any

_MARKS = {"strong", "em", "code", "strike", "underline", "link"}
_INLINE = {"text", "hardBreak", "mention", "emoji", "inlineCard"}
_BLOCKS = {"paragraph", "heading", "bulletList", "orderedList", "codeBlock", "blockquote", "rule"}


def adf_problems(value: Any) -> list[str]:
    """Why `value` is not a valid ADF document (empty when it is)."""
    if not isinstance(value, dict):
        return ["description: Operation value must be an Atlassian Document (see the Atlassian Document Format)"]
    problems: list[str] = []
    if value.get("type") != "doc" or value.get("version") != 1:
        problems.append("a document is {type: doc, version: 1}")
    if set(value) - {"type", "version", "content"}:
        problems.append(f"unknown keys on doc: {sorted(set(value) - {'type', 'version', 'content'})}")
    content = value.get("content")
    if not isinstance(content, list):
        return [*problems, "doc.content must be an array"]
    for at, block in enumerate(content):
        problems += _block(block, f"content[{at}]")
    return problems


def _block(node: Any, where: str) -> list[str]:
    if not isinstance(node, dict) or node.get("type") not in _BLOCKS:
        return [f"{where}: not a block node"]
    kind = node["type"]
    allowed = {"type", "content", "attrs", "marks"}
    if set(node) - allowed:
        return [f"{where}: unknown keys {sorted(set(node) - allowed)}"]
    content = node.get("content", [])
    if not isinstance(content, list):
        return [f"{where}.content must be an array"]
    if kind in {"paragraph", "heading"}:
        problems = []
        if kind == "heading" and (node.get("attrs") or {}).get("level") not in range(1, 7):
            problems.append(f"{where}: a heading has attrs.level 1-6")
        for at, child in enumerate(content):
            problems += _inline(child, f"{where}.content[{at}]")
        return problems
    if kind in {"bulletList", "orderedList"}:
        if not content:
            return [f"{where}: a list needs at least one listItem"]
        problems = []
        for at, item in enumerate(content):
            if not isinstance(item, dict) or item.get("type") != "listItem" or not item.get("content"):
                problems.append(f"{where}.content[{at}]: a list holds non-empty listItems")
                continue
            for inner, child in enumerate(item["content"]):
                problems += _block(child, f"{where}.content[{at}].content[{inner}]")
        return problems
    if kind == "codeBlock":
        return [p for at, c in enumerate(content) for p in _inline(c, f"{where}.content[{at}]", marks=False)]
    if kind == "blockquote":
        return [p for at, c in enumerate(content) for p in _block(c, f"{where}.content[{at}]")]
    return []


def _inline(node: Any, where: str, *, marks: bool = True) -> list[str]:
    if not isinstance(node, dict) or node.get("type") not in _INLINE:
        return [f"{where}: not an inline node"]
    if node["type"] != "text":
        return [] if set(node) <= {"type", "attrs"} else [f"{where}: unknown keys"]
    if set(node) - {"type", "text", "marks"}:
        return [f"{where}: unknown keys {sorted(set(node) - {'type', 'text', 'marks'})}"]
    if not isinstance(node.get("text"), str) or not node["text"]:
        return [f"{where}: a text node's text must be a non-empty string"]
    problems = []
    for mark in node.get("marks", []):
        if not marks:
            return [f"{where}: no marks allowed here"]
        if not isinstance(mark, dict) or mark.get("type") not in _MARKS:
            problems.append(f"{where}: unknown mark {mark!r}")
        elif mark["type"] == "link" and not isinstance((mark.get("attrs") or {}).get("href"), str):
            problems.append(f"{where}: a link mark needs attrs.href")
    return problems
