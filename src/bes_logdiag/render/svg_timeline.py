"""The timeline picture of one activation, as inline SVG for the HTML report.

Time runs left to right; the four stages are lanes, top to bottom; each milestone is a dot in its
stage's lane and each error line a cross, labelled on hover (an SVG ``<title>``).  Earlier
attempts are drawn faintly.  Steps of an attempt come seconds apart while the waits between
attempts last hours, so the time axis is compressed: each interval between two steps gets a width
that grows with the logarithm of its length, and an interval over an hour is marked as a break.
For an activation that has not moved on (stalled, in progress), a bar to the right measures the
time since its last progress against the stage's stall threshold, to scale, the part past the
threshold hatched.

Every piece of text is escaped (`html_parts.esc`); the picture has a title and a description in
words (``role="img"``), and the card around it says the same in text.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bes_logdiag.render.html_parts import esc
from bes_logdiag.words import duration, human_time, split_path

WIDTH = 640
LABEL_W = 128
"""The column of stage names, left of the plot."""
GAP_W = 150
"""The bar of the time since the last progress, right of the plot."""
PAD = 10
TOP = 16
LANE = 20
AXIS = TOP + 4 * LANE
HEIGHT = AXIS + 28
_TICK_W = 116
"""The room a time on the axis takes (``2024-01-01 07:10:57`` at 11 px), so that two do not touch."""
_END_W = _TICK_W + 56
"""The room ``logs end 2024-01-01 23:50:00`` takes at the right end of the axis."""
_CHAR_10PX = 6.0
"""About the width of a character of the 10 px labels above the plot (``threshold 15m``)."""
BREAK = timedelta(hours=1)
"""An interval longer than this is drawn as a break in the axis."""


@dataclass(frozen=True)
class Step:
    """A milestone or error line of one attempt (``attempt``: 1 = the first), as the picture marks it."""

    time: datetime
    stage: int
    name: str
    error: bool
    where: str
    attempt: int


def _steps(attempts: Sequence[Mapping[str, Any]]) -> list[Step]:
    out = []
    for n, a in enumerate(attempts, 1):
        for m in a.get("milestones") or ():
            if m.get("stage") and m.get("time"):
                where = f"{m.get('file')}:{m.get('line')}"
                out.append(
                    Step(
                        datetime.fromisoformat(m["time"]),
                        int(m["stage"]),
                        str(m.get("milestone")),
                        False,
                        where,
                        n,
                    )
                )
        for e in a.get("errors") or ():
            if e.get("time"):
                where = f"{e.get('file')}:{e.get('line')}"
                stage = int(e.get("stage") or a.get("stage") or 1)
                label = f"{e.get('error')} ({e.get('kb')})"
                out.append(Step(datetime.fromisoformat(e["time"]), stage, label, True, where, n))
    out.sort(key=lambda s: (s.time, s.attempt))
    return out


def _positions(times: Sequence[datetime], x0: float, x1: float) -> dict[datetime, float]:
    """Each distinct time's x: intervals get widths that grow with the log of their length."""
    unique = sorted(set(times))
    if len(unique) == 1:
        return {unique[0]: x0 + 6}
    widths = [0.5 + math.log1p((b - a).total_seconds()) for a, b in zip(unique, unique[1:])]
    scale = (x1 - x0 - 12) / sum(widths)
    xs, x = {unique[0]: x0 + 6}, x0 + 6
    for t, w in zip(unique[1:], widths):
        x += w * scale
        xs[t] = x
    return xs


def _lane_y(stage: int) -> int:
    return TOP + (min(max(stage, 1), 4) - 1) * LANE + LANE // 2


def _gap(act: Mapping[str, Any], log_end: datetime | None) -> tuple[timedelta, timedelta] | None:
    """(time since the last progress, the stage's threshold) for an activation that did not move
    on; None for one that completed or failed, or whose logs' end is unknown."""
    if act.get("status") not in ("stalled", "in_progress") or log_end is None or not act.get("last_progress"):
        return None
    since = log_end - datetime.fromisoformat(act["last_progress"])
    threshold = timedelta(seconds=int(act.get("stall_after_seconds") or 0))
    return (since, threshold) if since.total_seconds() > 0 and threshold.total_seconds() > 0 else None


def describe(act: Mapping[str, Any], log_end: datetime | None, steps: Sequence[Step] | None = None) -> str:
    """The picture in words: the steps of each attempt, then the wait since the last progress."""
    attempts = [*(act.get("attempts") or ()), act]
    steps = _steps(attempts) if steps is None else steps
    parts = []
    for n in range(1, len(attempts) + 1):
        mine = [s for s in steps if s.attempt == n]
        head = f"attempt {n} of {len(attempts)}: " if len(attempts) > 1 else ""
        listed = ", ".join(f"{'error ' if s.error else ''}{s.name} at {human_time(s.time)}" for s in mine)
        parts.append(head + (listed or "no steps"))
    text = "; ".join(parts)
    gap = _gap(act, log_end)
    if gap is not None:
        since, threshold = gap
        over = "over" if since > threshold else "within"
        text += (
            f"; then {duration(since)} without progress until the logs end, {over} the stage "
            f"{act.get('stage')} threshold of {duration(threshold)}"
        )
    return text + "."


def lanes(stage_names: Mapping[int, str]) -> str:
    """The four stages' lanes with their names, drawn once per page (``<g id="lanes">``, for the
    page's hidden ``<defs>``) and used by every timeline.  Their colours are attributes: a copy
    that ``<use>`` makes sits in a shadow tree, out of reach of the style sheet's ``svg ...`` rules."""
    out = ['<g id="lanes" font-size="11" font-family="system-ui,sans-serif">']
    for stage in range(1, 5):
        y = TOP + (stage - 1) * LANE
        fill = "#f6f8fa" if stage % 2 else "#ffffff"
        out.append(f'<rect fill="{fill}" x="0" y="{y}" width="{WIDTH}" height="{LANE}"/>')
        out.append(
            f'<text fill="#57606a" x="4" y="{y + 14}">{stage} {esc(stage_names.get(stage, ""))}</text>'
        )
    return "".join(out) + "</g>"


def timeline_svg(index: int, act: Mapping[str, Any], log_end: datetime | None) -> str:
    """The ``<svg>`` of activation ``index`` (ids in it are ``t{index}-...``)."""
    attempts = [*(act.get("attempts") or ()), act]
    steps = _steps(attempts)
    gap = _gap(act, log_end)
    x0, x1 = LABEL_W, WIDTH - PAD - (GAP_W + 8 if gap else 0)
    xs = _positions([s.time for s in steps], x0, x1) if steps else {}
    last = len(attempts)
    who = act.get("email") or act.get("display_name") or f"UserId={act.get('user_id')}"
    status = str(act.get("status")).replace("_", " ")
    title = f"Timeline of {who} on {act.get('server') or '-'}: {status} at stage {act.get('stage')}"
    out = [
        f'<svg class="tl" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-labelledby="t{index}-t t{index}-d" data-activation="{index}">',
        f'<title id="t{index}-t">{esc(title)}</title>',
        f'<desc id="t{index}-d">{esc(describe(act, log_end, steps))}</desc>',
    ]
    out.append('<use href="#lanes"/>')
    out.append(f'<line class="axis" x1="{x0}" y1="{AXIS}" x2="{WIDTH - PAD}" y2="{AXIS}"/>')
    out += _breaks(xs)
    # (with the wait drawn, "logs end ..." takes the right end of the axis)
    out += _axis_labels(steps, xs, x0, WIDTH - PAD - _END_W if gap else x1)
    for n in range(1, last + 1):
        mine = [s for s in steps if s.attempt == n]
        cls = "att" if n == last else "att early"
        out.append(f'<g class="{cls}" data-attempt="{n}">')
        if len(mine) > 1:
            pts = " ".join(f"{xs[s.time]:.0f},{_lane_y(s.stage):.0f}" for s in mine)
            out.append(f'<polyline class="path" points="{pts}"/>')
        out += [_mark(s, xs[s.time]) for s in mine]
        out.append("</g>")
    if gap is not None and steps:
        out += _gap_bar(act, gap, xs[steps[-1].time], x1, log_end)
    out.append("</svg>")
    return "".join(out)


def _mark(s: Step, at: float) -> str:
    x, y = f"{at:.0f}", f"{_lane_y(s.stage):.0f}"
    # The file's name without its folders: the card's evidence names it whole.
    where = split_path(s.where)[1]
    tip = esc(f"{'ERROR ' if s.error else ''}{s.name} · {human_time(s.time)} · {where}")
    if s.error:
        shape = f'd="M{x},{y} m-4,-4 l8,8 m0,-8 l-8,8"'
        return f'<path class="mk err" data-error="{esc(s.name)}" {shape}><title>{tip}</title></path>'
    shape = f'cx="{x}" cy="{y}" r="4.5"'
    return f'<circle class="mk" data-milestone="{esc(s.name)}" {shape}><title>{tip}</title></circle>'


def _breaks(xs: Mapping[datetime, float]) -> list[str]:
    """A zigzag on the axis, with the length of the wait, where an interval over `BREAK` lies."""
    times = sorted(xs)
    out = []
    for a, b in zip(times, times[1:]):
        if b - a <= BREAK:
            continue
        mid = (xs[a] + xs[b]) / 2
        out.append(
            f'<g class="brk"><title>{esc(duration(b - a))} without a step</title>'
            f'<path d="M{mid - 4:.1f},{AXIS + 5} l4,-10 M{mid:.1f},{AXIS + 5} l4,-10"/></g>'
        )
    return out


def _axis_labels(steps: Sequence[Step], xs: Mapping[datetime, float], x0: float, x1: float) -> list[str]:
    """The time of the first step, of each attempt's first, and of the last, where they fit: between
    ``x0`` and ``x1``, under their step, apart from each other."""
    if not steps:
        return []
    firsts: dict[int, datetime] = {}
    for s in steps:
        firsts.setdefault(s.attempt, s.time)
    wanted = [*firsts.values(), steps[-1].time]
    out: list[str] = []
    placed: list[float] = []
    for n, t in enumerate(wanted):
        x = min(max(xs[t], x0 + _TICK_W / 2), x1 - _TICK_W / 2)
        if abs(x - xs[t]) <= _TICK_W / 2 and not any(abs(x - p) < _TICK_W for p in placed):
            placed.append(x)
            out.append(f'<text class="tick" x="{x:.1f}" y="{AXIS + 16}">{human_time(t)}</text>')
        elif (
            n == len(wanted) - 1
            and xs[t] - x1 < _TICK_W / 2
            and not any(abs(x1 - _TICK_W / 2 - p) < _TICK_W for p in placed)
        ):
            # The last step, too near the right end to centre its time under it: the time ends
            # at the bound, just left of the step (the time most read on a stall).
            out.append(f'<text class="tick end" x="{x1:.1f}" y="{AXIS + 16}">{human_time(t)}</text>')
    return out


def _gap_bar(
    act: Mapping[str, Any], gap: tuple[timedelta, timedelta], last: float, x1: float, log_end: datetime | None
) -> list[str]:
    """The wait since the last step (at ``last``) to the end of the logs: a bar right of the plot
    (which ends at ``x1``), green up to the stage's threshold and red past it."""
    since, threshold = gap
    left = x1 + 8
    y = _lane_y(int(act.get("stage") or 1))
    span = max(since, threshold)
    full = GAP_W * since / span
    at = left + max(GAP_W * (threshold / span), 6)
    late = since > threshold
    words = f"{duration(since)} without progress (threshold {duration(threshold)})"
    out = [f'<g class="gap"><title>{esc(words)}</title>']
    out.append(f'<line class="wait" x1="{last:.1f}" y1="{y:.1f}" x2="{left:.1f}" y2="{y:.1f}"/>')
    ok = min(at, left + full) - left
    out.append(f'<rect class="ok" x="{left:.1f}" y="{y - 5:.1f}" width="{ok:.1f}" height="10"/>')
    if late:
        out.append(
            f'<rect class="late" x="{at:.1f}" y="{y - 5:.1f}" width="{left + full - at:.1f}" height="10"/>'
        )
    out.append(f'<line class="thr" x1="{at:.1f}" y1="{TOP - 2}" x2="{at:.1f}" y2="{AXIS}"/>')
    label = f"threshold {duration(threshold)}"
    x = min(at, WIDTH - 2 - len(label) * _CHAR_10PX / 2)  # (centred on the line, inside the picture)
    out.append(f'<text class="thl" x="{x:.1f}" y="{TOP - 4}">{esc(label)}</text>')
    end = f"logs end {human_time(log_end)}" if log_end else ""
    out.append(f'<text class="tick end" x="{WIDTH - PAD}" y="{AXIS + 16}">{esc(end)}</text>')
    # The wait in words, in the lane below the bar (above it in the last lane).
    below = y + 14 if y < _lane_y(4) else y - 9
    text = f"{duration(since, units=2)} without progress"
    out.append(f'<text class="gapl" x="{left + GAP_W:.1f}" y="{below:.1f}">{esc(text)}</text>')
    out.append("</g>")
    return out
