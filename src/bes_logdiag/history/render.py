"""``bes-logdiag history`` output: the trend as a table, JSON or CSV, each ``write(trend, out)``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, TextIO

from bes_logdiag.history.choices import HistoryFormat
from bes_logdiag.history.trend import PeriodRow, StageTime, Trend
from bes_logdiag.render.csv import Rows
from bes_logdiag.render.json import dumps
from bes_logdiag.render.safe import is_terminal
from bes_logdiag.stats import STAGES
from bes_logdiag.words import duration, human_time, plural


def row_dict(row: PeriodRow) -> dict[str, Any]:
    return {
        "period": row.period,
        "first_day": row.first_day.isoformat() if row.first_day else None,
        "started": row.started,
        "complete": row.complete,
        "in_progress": row.in_progress,
        "stalled": row.stalled,
        "failed": row.failed,
        "stages": [
            {
                "stage": s.stage,
                "name": s.name,
                "count": s.count,
                "median_seconds": s.median,
                "p90_seconds": s.p90,
            }
            for s in row.stages
        ],
        "kb": [{"kb": k.kb, "title": k.title, "count": k.count} for k in row.kbs],
    }


def trend_dict(trend: Trend) -> dict[str, Any]:
    return {
        "history": trend.path,
        "per": trend.per.value,
        "since": trend.since.isoformat(timespec="milliseconds") if trend.since else None,
        "servers": list(trend.servers),
        "runs": trend.runs,
        "last_recorded": trend.last_recorded,
        "periods": [row_dict(r) for r in trend.periods],
        "total": row_dict(trend.total),
    }


def write_json(trend: Trend, out: TextIO) -> None:
    out.write(dumps(trend_dict(trend)) + "\n")


CSV_COLUMNS = (
    "period", "first_day", "started", "complete", "in_progress", "stalled", "failed",
    *(f"stage{s}_{what}" for s in STAGES for what in ("count", "median_seconds", "p90_seconds")),
    "top_kb",
)  # fmt: skip


def write_csv(trend: Trend, out: TextIO, *, raw: bool = False) -> None:
    """A row per period and a last row ``all``; ``top_kb`` as ``KB13840 (2); KB04533 (1)``."""
    rows = Rows(out, raw=raw, screen=is_terminal(out))
    rows.write(CSV_COLUMNS)
    for row in (*trend.periods, trend.total):
        stages = {s.stage: s for s in row.stages}
        cells: list[object] = [
            row.period, row.first_day.isoformat() if row.first_day else None, row.started,
            row.complete, row.in_progress, row.stalled, row.failed,
        ]  # fmt: skip
        for s in STAGES:
            t = stages.get(s)
            cells += [t.count, t.median, t.p90] if t else [0, None, None]
        cells.append("; ".join(f"{k.kb} ({k.count})" for k in row.kbs))
        rows.write(cells)


def _span(seconds: float | None) -> str:
    return "" if seconds is None else duration(timedelta(seconds=seconds), units=2, clock=True)


def _stage_cell(t: StageTime | None) -> str:
    if t is None or not t.count:
        return ""
    return f"{_span(t.median)} / {_span(t.p90)}"


def write_table(trend: Trend, out: TextIO) -> None:
    """One row per period and a total; each stage's time as median / 90th percentile, over the
    attempts that left the stage; then a line naming the file, its scans and the stages."""
    from rich.table import Table

    from bes_logdiag.render.safe import terminal_text
    from bes_logdiag.render.table import console_for

    table = Table(header_style="bold")
    for head in ("Period", "Started", "Complete", "In progress", "Stalled", "Failed"):
        table.add_column(head, justify="left" if head == "Period" else "right", no_wrap=True)
    for s in STAGES:
        table.add_column(f"Stage {s}\nmedian / p90", justify="right", no_wrap=True)
    table.add_column("Top KB (attempts)", overflow="fold")
    for row in (*trend.periods, trend.total):
        stages = {s.stage: s for s in row.stages}
        table.add_row(
            terminal_text(row.period, style="bold" if row is trend.total else ""),
            *(str(n) for n in (row.started, row.complete, row.in_progress, row.stalled, row.failed)),
            *(_stage_cell(stages.get(s)) for s in STAGES),
            terminal_text(", ".join(f"{k.kb} ({k.count})" for k in row.kbs)),
            end_section=row is trend.periods[-1] if trend.periods else False,
        )
    console = console_for(out)
    console.print(table)
    scope = f" on {', '.join(trend.servers)}" if trend.servers else ""
    since = f" from {human_time(trend.since)}" if trend.since else ""
    names = ", ".join(f"{s.stage} {s.name}" for s in trend.total.stages)
    console.print(
        terminal_text(
            f"{trend.path}: {plural(trend.runs, 'scan')} recorded"
            + (f", the last at {trend.last_recorded}" if trend.last_recorded else "")
            + f"; attempts by the {trend.per.value} they started{scope}{since}; stages: {names}"
        )
    )


WRITERS: Mapping[HistoryFormat, Callable[[Trend, TextIO], None]] = {
    HistoryFormat.table: write_table,
    HistoryFormat.json: write_json,
    HistoryFormat.csv: write_csv,
}
