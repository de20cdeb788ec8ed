"""The choices of ``bes-logdiag history`` (light: the command line reads them before any work)."""

from __future__ import annotations

import enum


class Period(str, enum.Enum):
    """``history --per``: what one row of the trend covers."""

    day = "day"
    week = "week"


class HistoryFormat(str, enum.Enum):
    """``history --format``."""

    table = "table"
    json = "json"
    csv = "csv"
