"""Output of ``bes-logdiag timeline``: one user's milestones and errors in order, with the gaps."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TextIO

from rich.table import Table
from rich.text import Text

from bes_logdiag.model import Activation
from bes_logdiag.render.json import activation_dict, event_dict
from bes_logdiag.render.table import STYLE, console_for


def steps(acts: Sequence[Activation]) -> list[dict[str, Any]]:
    """Every milestone and error of every attempt, in time order, with seconds since the step before."""
    rows = []
    for act in acts:
        for n, attempt in enumerate(act.attempts, 1):
            for e in attempt.events:
                rows.append((e.time, e.file, e.line, act, n, e))
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    out: list[dict[str, Any]] = []
    prev: datetime | None = None
    for when, _, _, act, n, e in rows:
        gap = (when - prev).total_seconds() if prev is not None else None
        prev = when
        out.append({"server": act.server, "attempt": n, **event_dict(e), "since_previous_seconds": gap})
    return out


def write_json(query: str, acts: Sequence[Activation], out: TextIO) -> None:
    doc = {"user": query, "activations": [activation_dict(a) for a in acts], "milestones": steps(acts)}
    json.dump(doc, out, indent=2, ensure_ascii=False)
    out.write("\n")


def _gap(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = int(seconds)
    if s < 60:
        return f"+{seconds:.1f}s" if seconds < 10 else f"+{s}s"
    if s < 3600:
        return f"+{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"+{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"+{s // 86400}d{(s % 86400) // 3600}h"


def write_table(query: str, acts: Sequence[Activation], out: TextIO) -> None:
    console = console_for(out)
    for act in acts:
        last = act.last
        head = Text(f"{act.email or '-'} · {act.display_name or '-'} · UserId={act.user_id or '-'} "
                    f"on {act.server or '-'}: ")  # fmt: skip
        head.append(last.status.value, style=STYLE[last.status])
        head.append(f", stage {last.stage} ({last.stage_name})")
        if last.diagnosis.kb:
            head.append(f", {last.diagnosis.kb} {last.diagnosis.kb_title}")
        console.print(head)
    table = Table(header_style="bold")
    for col in ("Time", "Gap", "Try", "Stage", "Step", "Where", "Line"):
        table.add_column(col, overflow="fold")
    for s in steps(acts):
        name = s.get("milestone") or f"ERROR {s.get('error')} ({s.get('kb')})"
        table.add_row(
            s["time"].replace("T", " "), _gap(s["since_previous_seconds"]), str(s["attempt"]),
            str(s["stage"] or ""), Text(name, style="red" if "error" in s else ""),
            f"{s['file']}:{s['line']}", s["text"],
        )  # fmt: skip
    console.print(table)
