"""The fleet statistics' small charts, as inline SVG for the HTML report: the verdicts as a stacked
bar, the time spent in each stage (median and 90th percentile, on a logarithmic scale: stage 2 takes
seconds, stage 4 a quarter of an hour), and activations per hour of the day stacked by verdict.

Input is one group of the JSON ``stats`` (`render.json.group_dict`).  Verdicts differ by fill
pattern as well as colour (hatching for stalled, cross-hatching for failed: `PATTERNS`, which the
style sheet's ``.s-stalled`` and ``.s-failed`` fill with), and every chart has a title and a
description in words; the table beside each chart gives the numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from bes_logdiag.render.html_parts import LABELS, STATUSES, esc
from bes_logdiag.words import duration

PATTERNS = (
    '<pattern id="p-stalled" width="6" height="6" patternUnits="userSpaceOnUse" '
    'patternTransform="rotate(45)">'
    '<rect width="6" height="6" class="pf-stalled"/><rect width="2" height="6" class="hatch"/></pattern>'
    '<pattern id="p-failed" width="6" height="6" patternUnits="userSpaceOnUse">'
    '<rect width="6" height="6" class="pf-failed"/><path d="M0,0 L6,6 M6,0 L0,6" class="xhatch"/></pattern>'
)
"""The fills of stalled and failed parts, defined once per page (`page_defs`)."""


def page_defs(lanes: str) -> str:
    """The page's hidden ``<svg>`` of what every chart and timeline refers to by id: the fill
    patterns and the timelines' ``lanes`` (`svg_timeline.lanes`)."""
    hidden = 'class="defs" width="0" height="0" aria-hidden="true" focusable="false"'
    return f"<svg {hidden}><defs>{PATTERNS}{lanes}</defs></svg>"


def _rect(cls: str, x: float, y: float, w: float, h: float) -> str:
    return f'<rect class="{cls}" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}"/>'


def status_bar(group: Mapping[str, Any], width: int = 160) -> str:
    """The verdicts of a group as one stacked bar (decorative: the numbers are in its row)."""
    total = sum(int(group.get(s) or 0) for s in STATUSES)
    out = [
        f'<svg class="bar" viewBox="0 0 {width} 14" width="{width}" height="14" '
        'aria-hidden="true" focusable="false">'
    ]
    x = 0.0
    for s in STATUSES:
        n = int(group.get(s) or 0)
        if n and total:
            w = width * n / total
            out.append(_rect(f"s-{s}", x, 0, w, 14))
            x += w
    out.append("</svg>")
    return "".join(out)


def _scale(seconds: float, top: float) -> float:
    """Position on a log scale from 1 s to ``top`` seconds, 0-1."""
    return math.log10(max(seconds, 1.0)) / math.log10(max(top, 10.0))


def stage_chart(key: str, group: Mapping[str, Any], stage_names: Mapping[int, str], top: float) -> str:
    """Time in each stage: a bar to the median, a lighter one on to the 90th percentile; ``top``
    (seconds) is the end of the scale, shared by the charts of one report."""
    width, label_w, row = 360, 150, 22
    stages = list(group.get("stages") or ())
    height = row * len(stages) + 18
    title = f"Time in each stage, {group.get('server') or 'all servers'}"
    words = "; ".join(
        f"stage {t['stage']}: median {dur(t['median_seconds'])}, 90th percentile {dur(t['p90_seconds'])}, "
        f"{t['count']} attempts left it"
        if t.get("count")
        else f"stage {t['stage']}: no attempt left it"
        for t in stages
    )
    out = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-labelledby="{key}-t {key}-d">',
        f'<title id="{key}-t">{esc(title)}</title><desc id="{key}-d">{esc(words)}</desc>',
    ]
    plot = width - label_w - 8
    for i, t in enumerate(stages):
        y = i * row
        name = stage_names.get(int(t["stage"]), "")
        out.append(f'<text class="lab" x="0" y="{y + 14}">{t["stage"]} {esc(name)}</text>')
        out.append(_rect("track", label_w, y + 4, plot, 12))
        if t.get("count"):
            p90 = plot * _scale(float(t["p90_seconds"]), top)
            med = plot * _scale(float(t["median_seconds"]), top)
            out.append(_rect("p90", label_w, y + 4, max(p90, 1), 12))
            out.append(_rect("med", label_w, y + 4, max(med, 1), 12))
    for seconds, text in ((1, "1s"), (10, "10s"), (60, "1m"), (600, "10m"), (3600, "1h"), (86400, "1d")):
        if seconds <= top:
            x = label_w + plot * _scale(seconds, top)
            out.append(f'<text class="tick" x="{x:.1f}" y="{height - 3}">{text}</text>')
    out.append("</svg>")
    return "".join(out)


def dur(seconds: float | None) -> str:
    """A median or percentile in words: ``4.6s``, ``12m43s``, ``-`` for none."""
    if seconds is None:
        return "-"
    return f"{seconds:.1f}s" if seconds < 10 else duration(timedelta(seconds=seconds), units=2)


def hour_chart(key: str, group: Mapping[str, Any]) -> str:
    """Activations per hour of the day their last attempt began, stacked by verdict."""
    width, height, base, left = 360, 118, 98, 12
    hours: Mapping[str, list[int]] = group.get("by_hour") or {}
    totals = [sum(int((hours.get(s) or [0] * 24)[h]) for s in STATUSES) for h in range(24)]
    top = max(totals, default=0) or 1
    busy = [
        f"{h:02d}:00 "
        + ", ".join(f"{hours[s][h]} {LABELS[s]}" for s in STATUSES if hours.get(s) and hours[s][h])
        for h in range(24)
        if totals[h]
    ]
    title = f"Activations per hour of the day, {group.get('server') or 'all servers'}"
    words = "; ".join(busy) or "no activations"
    out = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-labelledby="{key}-t {key}-d">',
        f'<title id="{key}-t">{esc(title)}</title><desc id="{key}-d">{esc(words)}</desc>',
        f'<line class="axis" x1="0" y1="{base}" x2="{width}" y2="{base}"/>',
    ]
    col = (width - 2 * left) / 24
    for h in range(24):
        y = float(base)
        for s in STATUSES:
            n = int((hours.get(s) or [0] * 24)[h])
            if n:
                hgt = (base - 14) * n / top
                y -= hgt
                out.append(_rect(f"s-{s}", left + h * col + 1.5, y, col - 3, hgt))
        if totals[h]:
            out.append(
                f'<text class="cnt" x="{left + h * col + col / 2:.1f}" y="{y - 2:.1f}">{totals[h]}</text>'
            )
        if h % 6 == 0:
            out.append(
                f'<text class="tick" x="{left + h * col + col / 2:.1f}" y="{height - 4}">{h:02d}h</text>'
            )
    out.append("</svg>")
    return "".join(out)
