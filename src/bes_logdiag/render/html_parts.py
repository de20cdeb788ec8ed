"""Small pieces the HTML report's modules share: escaping, a verdict's badge, times, grouping.

`esc` is the one helper for text in HTML and SVG (STYLE.md point 15): control and bidi characters
are shown as escapes as on a terminal (`render.safe.terminal`: an RLO would turn an address round
on the page too), then the characters HTML gives meaning to become entities.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bes_logdiag.render.safe import terminal
from bes_logdiag.words import human_time

STATUSES = ("complete", "in_progress", "stalled", "failed")
LABELS = {"complete": "complete", "in_progress": "in progress", "stalled": "stalled", "failed": "failed"}
SYMBOL = {"complete": "\u2713", "in_progress": "\u2026", "stalled": "\u2016", "failed": "\u2717"}
"""A mark beside each verdict's word, so that colour is never the only sign."""


def esc(text: object) -> str:
    """Text (or a number) for HTML or SVG, in an element or an attribute."""
    s = terminal(text if isinstance(text, str) else str(text))
    # (five replaces beat html.escape's and a translate table's speed on short strings)
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return s.replace('"', "&quot;").replace("'", "&#x27;")


def status(value: str) -> str:
    """A verdict as the page shows it: its mark and its word, coloured."""
    mark = f'<span aria-hidden="true">{SYMBOL.get(value, "")}</span>'
    return f'<span class="st st-{esc(value)}">{mark} {esc(LABELS.get(value, value))}</span>'


def when(iso: str | None) -> str:
    """An ISO time of the report as people read it (`words.human_time`); ``-`` for none."""
    return human_time(datetime.fromisoformat(iso)) if iso else "-"


def chunks(items: Sequence[str], size: int, cls: str, tag: str = "div", attrs: str = "") -> list[str]:
    """``items`` in groups of ``size``, each in its own element: the browser skips laying out a
    group off screen (``content-visibility`` on the group: one per item costs more to track)."""
    return [
        f'<{tag} class="{cls}"{attrs}>{"".join(items[k : k + size])}</{tag}>\n'
        for k in range(0, len(items), size)
    ]


def scroll(label: str, table: str) -> str:
    """A wide table in a region of its own that scrolls sideways on a phone, not the page."""
    return f'<div class="scroll" role="region" aria-label="{esc(label)}" tabindex="0">{table}</div>\n'
