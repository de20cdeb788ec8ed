"""Renderers: one module per output format, each with ``write(report, out)``."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:  # the model is imported by the renderers themselves: --help and --version skip it
    from bes_logdiag.model import Report


class Format(str, enum.Enum):
    table = "table"
    json = "json"
    ndjson = "ndjson"
    csv = "csv"
    junit = "junit"
    markdown = "markdown"


def writer_for(fmt: Format) -> Callable[[Report, TextIO], None]:
    """The renderer of each format (exhaustive: a test loops over every member)."""
    if fmt is Format.table:
        from bes_logdiag.render import table

        return table.write
    if fmt is Format.json:
        from bes_logdiag.render import json as json_render

        return json_render.write
    if fmt is Format.ndjson:
        from bes_logdiag.render import ndjson

        return ndjson.write
    if fmt is Format.csv:
        from bes_logdiag.render import csv as csv_render

        return csv_render.write
    if fmt is Format.junit:
        from bes_logdiag.render import junit

        return junit.write
    if fmt is Format.markdown:
        from bes_logdiag.render import markdown

        return markdown.write
    raise AssertionError(fmt)  # pragma: no cover
