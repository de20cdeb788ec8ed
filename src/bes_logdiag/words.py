"""Words in messages: one place for plurals, for naming a few of many, for spans of time, for
times as people read them, and for a file's name without its folders."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def plural(count: int, word: str) -> str:
    """``1 file``, ``2 files``, ``27,456 lines``."""
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"


def some(names: Sequence[str], shown: int = 3) -> str:
    """``a, b, c and 4 more``: the first few of a list that may be long."""
    head = ", ".join(names[:shown])
    return f"{head} and {len(names) - shown} more" if len(names) > shown else head


def duration(span: timedelta, *, units: int = 3, clock: bool = False) -> str:
    """A span of time in the units of the largest `units` from its largest one: ``16h39m2s``,
    ``2d9h19m``, ``30m``, ``0s`` (a unit that is zero is left out; a negative span is ``0s``).

    ``clock``, for a column of gaps: every unit after the first shown, on two digits (``5m03s``,
    ``2h05m``), and tenths of a second under ten seconds (``3.2s``).
    """
    seconds = span.total_seconds()
    if clock and 0 <= seconds < 10:
        return f"{seconds:.1f}s"
    left = max(int(seconds), 0)
    parts: list[tuple[int, str]] = []
    for unit, size in _UNITS:
        count, left = divmod(left, size)
        if count or parts:
            parts.append((count, unit))
    parts = parts[:units]
    if clock and parts:
        (first, unit), rest = parts[0], parts[1:]
        return f"{first}{unit}" + "".join(f"{count:02d}{unit}" for count, unit in rest)
    return "".join(f"{count}{unit}" for count, unit in parts if count) or "0s"


def human_time(t: datetime, *, ms: bool = False) -> str:
    """A time as every output for people writes it: ``2023-12-30 10:26:32``, and with ``ms``
    ``2023-12-30 10:26:32.717`` (timelines and watch's lines, whose steps may share a second).

    Always with the year, in ISO 8601's order, in every output and every message: the logs' own
    ``MM/DD`` reads as another day to half the world and runs backwards over New Year, and a
    format that changed with the logs read would change the width of columns and what a script
    finds in a saved output.  (An f-string: strftime is slower, and a large HTML report calls
    this 10^5 times.)
    """
    text = f"{t.year:04d}-{t.month:02d}-{t.day:02d} {t.hour:02d}:{t.minute:02d}:{t.second:02d}"
    return f"{text}.{t.microsecond // 1000:03d}" if ms else text


def split_path(path: str) -> tuple[str, str]:
    """``logs/20100521/X.txt`` -> (``logs/20100521/``, ``X.txt``); also ``a.zip!X.txt`` and ``\\``."""
    cut = max(path.rfind(c) for c in "/\\!") + 1
    return path[:cut], path[cut:]


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, an ellipsis in the last one."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
