"""Render the header message Tocsin pins in an incident channel as docs/images/header.png.

The blocks are Tocsin's own (bot.slack.blocks.header_message, for a sample incident); the look is a
simple HTML approximation of Slack's, screenshotted with headless Chromium. It is a rendering, not a
screenshot of Slack. Run from the repository root:

    .venv/bin/python docs/tools/render_header.py          # needs `chromium` (apt-get install chromium)
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.domain.incidents import DetectedVia, Incident, Status  # noqa: E402
from bot.domain.policy import Policy  # noqa: E402
from bot.slack import blocks  # noqa: E402

OUT = ROOT / "docs" / "images" / "header.png"
NOW = datetime(2026, 11, 23, 10, 42, tzinfo=UTC)
PEOPLE = {"U0ALICE": "Alice Moreau", "U0BOB": "Bob Okafor", "U0CAROL": "Carol Nguyen"}


def sample_incident() -> Incident:
    """A SEV2 checkout incident, 42 minutes in, with an IC, a comms lead and one update."""
    return Incident(
        id=1,
        team_id="T0DOCS",
        number=42,
        title="Checkout errors for EU customers",
        severity="SEV2",
        status=Status.IDENTIFIED,
        declared_by="U0ALICE",
        declared_at=NOW - timedelta(minutes=42),
        description="About 30% of EU card payments fail with a 502 at the payment step.",
        detected_via=DetectedVia.MONITORING,
        roles={"incident_commander": "U0ALICE", "comms_lead": "U0BOB"},
        acknowledged_by="U0CAROL",
        last_update_at=NOW - timedelta(minutes=12),
        next_update_due=NOW + timedelta(minutes=18),
    )


def mrkdwn(text: str) -> str:
    """Slack mrkdwn to HTML, as far as the header uses it: mentions, dates, bold, italics, code."""
    text = html.escape(text, quote=False).replace("&amp;", "&")  # Slack escapes & < > itself already

    def date(match: re.Match[str]) -> str:
        stamp = datetime.fromtimestamp(int(match.group(1)), UTC)
        return f"{stamp:%b} {stamp.day} at {stamp:%H:%M} UTC"

    text = re.sub(r"&lt;!date\^(\d+)\^[^|]*\|[^&]*&gt;", date, text)
    text = re.sub(
        r"&lt;@(U\w+)&gt;", lambda m: f'<span class="mention">@{PEOPLE.get(m.group(1), m.group(1))}</span>', text
    )
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    text = re.sub(r"(?<!\w)\*([^*\n]+)\*(?!\w)", r"<b>\1</b>", text)
    text = re.sub(r"(?<!\w)_([^_\n]+)_(?!\w)", r"<i>\1</i>", text)
    return text.replace("\n", "<br>")


def element(part: dict[str, Any]) -> str:
    """One actions-block element: a button or a select."""
    if part["type"] == "button":
        style = part.get("style", "")
        return f'<span class="button {style}">{html.escape(part["text"]["text"])}</span>'
    chosen = (part.get("initial_option") or {}).get("text", {}).get("text")
    label = chosen or part["placeholder"]["text"]
    return f'<span class="select">{html.escape(label)} <span class="caret">▾</span></span>'


def block(part: dict[str, Any]) -> str:
    """One Block Kit block as HTML."""
    kind = part["type"]
    if kind == "header":
        return f'<div class="header">{html.escape(part["text"]["text"])}</div>'
    if kind == "section" and "fields" in part:
        cells = "".join(f'<div class="field">{mrkdwn(f["text"])}</div>' for f in part["fields"])
        return f'<div class="fields">{cells}</div>'
    if kind == "section":
        return f'<div class="section">{mrkdwn(part["text"]["text"])}</div>'
    if kind == "actions":
        return '<div class="actions">' + "".join(element(e) for e in part["elements"]) + "</div>"
    if kind == "context":
        return '<div class="context">' + " ".join(mrkdwn(e["text"]) for e in part["elements"]) + "</div>"
    return ""


STYLE = """
body { margin: 0; background: #fff; font: 15px/1.47 -apple-system, "Segoe UI", "Noto Sans", Lato, sans-serif;
       color: #1d1c1d; }
.message { display: flex; gap: 10px; padding: 14px 20px 16px; width: 860px; }
.avatar { width: 36px; height: 36px; border-radius: 6px; background: #7a1f1f; color: #fff; font-weight: 700;
          display: flex; align-items: center; justify-content: center; flex: none; margin-top: 3px; }
.name { font-weight: 900; } .app { font-size: 10px; background: #e8e8e8; color: #616061; border-radius: 3px;
      padding: 1px 4px; margin: 0 4px; font-weight: 700; vertical-align: 2px; }
.time { color: #616061; font-size: 12px; }
.pinned { color: #616061; font-size: 13px; margin-bottom: 2px; }
.header { font-size: 18px; font-weight: 900; margin: 6px 0 4px; }
.fields { display: grid; grid-template-columns: 1fr 1fr; gap: 8px 16px; margin: 6px 0; }
.section { margin: 8px 0; }
.mention { color: #1264a3; background: #e8f5fa; border-radius: 3px; padding: 0 2px; }
code { font: 12px Menlo, "DejaVu Sans Mono", monospace; color: #e01e5a; background: #f8f8f8;
       border: 1px solid #ddd; border-radius: 3px; padding: 1px 3px; }
.actions { display: flex; flex-wrap: wrap; gap: 8px; margin: 10px 0 6px; }
.button, .select { border: 1px solid #bbb; border-radius: 4px; padding: 4px 12px; font-size: 14px; font-weight: 700;
                   background: #fff; }
.select { font-weight: 400; color: #616061; } .caret { color: #1d1c1d; }
.button.primary { background: #007a5a; border-color: #007a5a; color: #fff; }
.button.danger { background: #e01e5a; border-color: #e01e5a; color: #fff; }
.context { color: #616061; font-size: 12px; margin-top: 4px; }
.note { color: #8d8d8d; font-size: 11px; text-align: right; padding: 0 20px 8px; }
"""


def page() -> str:
    """The header message as an HTML page."""
    _, message = blocks.header_message(sample_incident(), Policy(), now=NOW)
    body = "".join(block(b) for b in message)
    return f"""<!doctype html><html><head><meta charset="utf-8"><style>{STYLE}</style></head><body>
<div class="message"><div class="avatar">T</div><div>
<div class="pinned">📌 Pinned by Tocsin</div>
<div><span class="name">Tocsin</span><span class="app">APP</span><span class="time">10:00</span></div>
{body}</div></div>
<div class="note">A rendering of Tocsin's Block Kit header (docs/tools/render_header.py), not a Slack screenshot</div>
</body></html>"""


def main() -> int:
    """Write the page and screenshot it with headless Chromium."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        print("render_header: needs chromium (apt-get install chromium)", file=sys.stderr)
        return 2
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "header.html"
        source.write_text(page(), encoding="utf-8")
        command = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--force-device-scale-factor=2",
            "--window-size=900,500",
            f"--screenshot={OUT}",
            source.as_uri(),
        ]
        subprocess.run(command, check=True, capture_output=True, timeout=120)  # noqa: S603 - our own command line
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
