"""Renderers: one module per output format, each with ``write(report, out)``."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TextIO

from bes_logdiag.model import Report


class Format(str, enum.Enum):
    table = "table"
    json = "json"


def writer_for(fmt: Format) -> Callable[[Report, TextIO], None]:
    """The renderer of each format (exhaustive: a test loops over every member)."""
    if fmt is Format.table:
        from bes_logdiag.render import table

        return table.write
    if fmt is Format.json:
        from bes_logdiag.render import json as json_render

        return json_render.write
    raise AssertionError(fmt)  # pragma: no cover
