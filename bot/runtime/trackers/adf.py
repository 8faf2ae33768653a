"""Atlassian Document Format (ADF): the JSON Jira Cloud's REST v3 takes for rich text (an issue's
description), built from the small Markdown Tocsin writes issue bodies in.

What is understood: paragraphs (separated by blank lines; single line breaks inside one become
`hardBreak`s), `# ` headings (levels 1 to 6), `- ` / `* ` bullet lists, `[text](https://…)` links, bare
`http(s)://` links, `**bold**` and `_emphasis_`. Everything else is kept as plain text, never dropped. The result is a
`doc` of version 1 whose every text node is non-empty, as Jira requires (it answers 400 to an empty one).
"""

from __future__ import annotations

import re
from typing import Any

Node = dict[str, Any]

_INLINE = re.compile(
    r"\[(?P<label>[^\]\n]+)\]\((?P<href>https?://[^\s)]+)\)"  # [text](url)
    r"|\*\*(?P<bold>[^*\n]+)\*\*"  # **bold**
    r"|(?<![\w])_(?P<em>[^_\n]+)_(?![\w])"  # _emphasis_
    r"|(?P<bare>https?://[^\s<>()\[\]]+[^\s<>()\[\].,;:!?'\"])"  # a bare link (without trailing punctuation)
)
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_BULLET = re.compile(r"^\s*[-*]\s+(.*)$")


def text(value: str, *, href: str | None = None, strong: bool = False, em: bool = False) -> Node:
    """A text node (with link, bold and emphasis marks as asked)."""
    node: Node = {"type": "text", "text": value}
    marks: list[Node] = []
    if strong:
        marks.append({"type": "strong"})
    if em:
        marks.append({"type": "em"})
    if href is not None:
        marks.append({"type": "link", "attrs": {"href": href}})
    if marks:
        node["marks"] = marks
    return node


def inline(line: str) -> list[Node]:
    """The inline nodes of one line of Markdown (links and bold marked, the rest plain text)."""
    nodes: list[Node] = []
    at = 0
    for found in _INLINE.finditer(line):
        if found.start() > at:
            nodes.append(text(line[at : found.start()]))
        if found["label"] is not None:
            nodes.append(text(found["label"], href=found["href"]))
        elif found["bold"] is not None:
            nodes.append(text(found["bold"], strong=True))
        elif found["em"] is not None:
            nodes.append(text(found["em"], em=True))
        else:
            nodes.append(text(found["bare"], href=found["bare"]))
        at = found.end()
    if at < len(line):
        nodes.append(text(line[at:]))
    return [node for node in nodes if node["text"]]


def paragraph(lines: list[str]) -> Node:
    """A paragraph of the given lines, joined by hard breaks (an empty paragraph has no content)."""
    content: list[Node] = []
    for line in lines:
        parts = inline(line)
        if not parts:
            continue
        if content:
            content.append({"type": "hardBreak"})
        content.extend(parts)
    return {"type": "paragraph", "content": content}


def bullet_list(items: list[str]) -> Node:
    """A bullet list, each item one paragraph."""
    return {
        "type": "bulletList",
        "content": [{"type": "listItem", "content": [paragraph([item])]} for item in items],
    }


def heading(level: int, line: str) -> Node:
    """A heading of `level` (1 to 6)."""
    return {"type": "heading", "attrs": {"level": level}, "content": inline(line)}


def doc(blocks: list[Node]) -> Node:
    """The document around `blocks` (one empty paragraph when there are none: `content` may not be empty)."""
    return {"type": "doc", "version": 1, "content": blocks or [{"type": "paragraph", "content": []}]}


def from_markdown(markdown: str) -> Node:
    """The ADF document of `markdown` (see the module docstring for what is understood)."""
    blocks: list[Node] = []
    lines: list[str] = []
    items: list[str] = []

    def flush() -> None:
        if lines:
            blocks.append(paragraph(lines))
            lines.clear()
        if items:
            blocks.append(bullet_list(items))
            items.clear()

    for raw in markdown.replace("\r\n", "\n").split("\n"):
        line = raw.rstrip()
        if not line.strip():
            flush()
        elif bullet := _BULLET.match(line):
            if lines:
                flush()
            items.append(bullet[1])
        elif head := _HEADING.match(line):
            flush()
            blocks.append(heading(len(head[1]), head[2]))
        else:
            if items:
                flush()
            lines.append(line.strip())
    flush()
    return doc([block for block in blocks if block.get("content") or block["type"] == "paragraph"])
